ÍPOST / HTTP/1.1
Host: test
Content-Length: 13
Transfer-Encoding: chunked

0

SMUGGLED