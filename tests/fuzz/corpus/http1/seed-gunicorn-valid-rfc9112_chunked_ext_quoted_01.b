2POST /upload HTTP/1.1
Host: example.com
Transfer-Encoding: chunked

5;foo="bar baz"
hello
0

