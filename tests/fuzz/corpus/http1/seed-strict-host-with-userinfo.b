²GET /a HTTP/1.1
Host: user@a.example

