\POST /chunked_with_prefixed_value HTTP/1.1
Content-Length: 12
Transfer-Encoding: 	chunked

5
hello
6
 world

