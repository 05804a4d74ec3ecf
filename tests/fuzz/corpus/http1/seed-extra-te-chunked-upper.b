ÞPOST /p HTTP/1.1
Host: test
Transfer-Encoding: CHUNKED

0

