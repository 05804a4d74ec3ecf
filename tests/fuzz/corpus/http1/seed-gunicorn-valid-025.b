POST /chunked HTTP/1.1
Transfer-Encoding: gzip
Transfer-Encoding: chunked

5
hello
6
 world
0

