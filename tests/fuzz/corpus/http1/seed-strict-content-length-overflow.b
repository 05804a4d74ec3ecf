POST /a HTTP/1.1
Host: test
Content-Length: 99999999999999999999999

