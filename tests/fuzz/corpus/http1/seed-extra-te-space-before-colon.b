ËPOST /p HTTP/1.1
Host: test
Transfer-Encoding : chunked
Content-Length: 3

abc