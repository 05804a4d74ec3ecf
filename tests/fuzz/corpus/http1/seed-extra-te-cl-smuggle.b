ÎPOST / HTTP/1.1
Host: test
Content-Length: 3
Transfer-Encoding: chunked

8
SMUGGLED
0

