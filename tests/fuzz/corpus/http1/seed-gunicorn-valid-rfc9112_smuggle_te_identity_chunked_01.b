6POST /upload HTTP/1.1
Host: example.com
Transfer-Encoding: identity, chunked

5
hello
0

