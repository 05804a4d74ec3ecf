‰POST /a HTTP/1.1
Host: test
Content-Length: 4
Transfer-Encoding: chunked

0

