‡POST /p HTTP/1.1
Host: test
Transfer-Encoding: chunked 

0

