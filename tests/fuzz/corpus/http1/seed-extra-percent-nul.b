GET /a%00b HTTP/1.1
Host: test

