POST /p HTTP/1.1
Host: test
Transfer-Encoding: chunked

5;a="b;\"c"
hello
0

GET /s HTTP/1.1
Host: test

