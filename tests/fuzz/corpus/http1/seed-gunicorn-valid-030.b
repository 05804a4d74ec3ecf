GET /stuff/here?foo=bar HTTP/1.1
Transfer-Encoding: identity
Transfer-Encoding: chunked

5
hello
000

