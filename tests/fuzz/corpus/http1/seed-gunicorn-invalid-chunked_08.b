bPOST /chunked_not_last HTTP/1.1
Transfer-Encoding: chunked
Transfer-Encoding: identity

5
hello
6
 world

