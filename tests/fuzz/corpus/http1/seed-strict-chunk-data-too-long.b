­POST /a HTTP/1.1
Host: test
Transfer-Encoding: chunked

2
abc
0

