GET /a%2500 HTTP/1.1
Host: test

