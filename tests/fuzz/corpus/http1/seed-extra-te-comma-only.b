ÂPOST /p HTTP/1.1
Host: test
Transfer-Encoding: ,
Content-Length: 5

hello