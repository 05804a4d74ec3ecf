POST /p HTTP/1.1
Host: test
Transfer-Encoding: chunked

5 ; a = b
hello
0

