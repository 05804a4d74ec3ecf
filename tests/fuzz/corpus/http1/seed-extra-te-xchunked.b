·POST /p HTTP/1.1
Host: test
Transfer-Encoding: xchunked

0

