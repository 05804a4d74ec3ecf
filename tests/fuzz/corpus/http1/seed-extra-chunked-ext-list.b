POST /p HTTP/1.1
Host: test
Transfer-Encoding: chunked

5;a=b;c=d
hello
0;e

