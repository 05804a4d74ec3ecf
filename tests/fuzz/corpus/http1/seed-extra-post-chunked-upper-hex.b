ÖPOST /p HTTP/1.1
Host: test
Transfer-Encoding: chunked

A
0123456789
0

