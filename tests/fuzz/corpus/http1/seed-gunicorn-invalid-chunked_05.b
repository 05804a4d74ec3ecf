_POST /chunked_HTTP_1.0 HTTP/1.0
Transfer-Encoding: chunked

5
hello
6
 world
0
Vary: *
Content-Type: text/plain

