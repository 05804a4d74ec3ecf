¥GET /a HTTP/2.0
Host: test

