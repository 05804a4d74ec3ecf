ÙPOST /p HTTP/1.1
Host: test
Content-Length: 10

abc