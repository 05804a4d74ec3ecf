«POST /a HTTP/1.1
Host: test
Transfer-Encoding: chunked

fffffffffffffffff1
x
0

