ÊPOST /p HTTP/1.1
Host: test
Transfer-Encoding: chunked
Transfer-Encoding:

0

