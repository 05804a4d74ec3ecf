§GET /a HTTP/3.0
Host: test

