4POST /upload HTTP/1.1
Host: example.com
Transfer-Encoding: chunked

A
0123456789
0

