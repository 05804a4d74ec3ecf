ÍPOST /p HTTP/1.1
Host: test
Content-Length: 5

hello