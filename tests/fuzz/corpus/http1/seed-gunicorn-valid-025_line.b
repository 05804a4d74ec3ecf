POST /chunked HTTP/1.1
Transfer-Encoding: gzip,chunked

5
hello
6
 world
0

