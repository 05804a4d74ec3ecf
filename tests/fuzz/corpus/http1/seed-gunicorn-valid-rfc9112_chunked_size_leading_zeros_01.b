3POST /upload HTTP/1.1
Host: example.com
Transfer-Encoding: chunked

0005
hello
0

