ÈPOST /p HTTP/1.1
Host: test
Transfer_Encoding: chunked
Content-Length: 5

0

