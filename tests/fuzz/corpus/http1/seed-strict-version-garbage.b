¨GET /a HTTP/x.y
Host: test

