ÓPOST /p HTTP/1.1
Host: test
Transfer-Encoding: chunked

5
hello
0
X-Trailer: t
Host: evil

