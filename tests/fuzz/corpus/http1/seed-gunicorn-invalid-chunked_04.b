^POST /chunked_twice HTTP/1.1
Transfer-Encoding: identity
Transfer-Encoding: chunked
Transfer-Encoding: identity
Transfer-Encoding: chunked

5
hello
6
 world

