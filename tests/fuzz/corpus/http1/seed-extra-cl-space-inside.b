ÓPOST /p HTTP/1.1
Host: test
Content-Length: 1 0

0123456789