‰POST /p HTTP/1.1
Host: test
Transfer-Encoding:
Content-Length: 5

helloGET /s HTTP/1.1
Host: test

