“POST /a HTTP/1.0
Transfer-Encoding: chunked

5
hello
0

