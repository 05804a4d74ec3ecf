¦GET /a HTTP/1.2
Host: test

