¯GET /a HTTP/1.1
Host: a.example
Host: b.example

