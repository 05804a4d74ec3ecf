[POST /chunked_w_underscore_chunk_size HTTP/1.1
Transfer-Encoding: chunked

5
hello
6_0
 world
0

POST /after HTTP/1.1
Transfer-Encoding: identity

