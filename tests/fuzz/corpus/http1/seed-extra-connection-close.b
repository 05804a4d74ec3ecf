þGET /a HTTP/1.1
Host: test
Connection: close

GET /s HTTP/1.1
Host: test

