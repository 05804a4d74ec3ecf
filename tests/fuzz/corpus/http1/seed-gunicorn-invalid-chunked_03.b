]POST /double_chunked HTTP/1.1
Transfer-Encoding: identity, chunked, identity, chunked

5
hello
6
 world

