ŠPOST /a HTTP/1.1
Host: test
Transfer-Encoding: chunked
Content-Length: 4

0

