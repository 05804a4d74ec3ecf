ÛGET /p HTTP/1.1
Host: test
Content-Length: 4

GET /s HTTP/1.1
Host: test

