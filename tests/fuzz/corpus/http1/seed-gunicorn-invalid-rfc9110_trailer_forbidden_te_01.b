}POST /p HTTP/1.1
Host: example.com
Transfer-Encoding: chunked

5
hello
0
Transfer-Encoding: chunked

