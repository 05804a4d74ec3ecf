5POST /upload HTTP/1.1
Host: example.com
Transfer-Encoding: gzip, chunked

5
hello
0

