¬POST /a HTTP/1.1
Host: test
Transfer-Encoding: chunked

zz
x
0

