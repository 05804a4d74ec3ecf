ÕPOST /p HTTP/1.1
Host: test
Transfer-Encoding: chunked

1
a
0
X: y
 z

