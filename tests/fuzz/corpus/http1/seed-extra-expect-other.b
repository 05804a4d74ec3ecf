úPOST /p HTTP/1.1
Host: test
Expect: 200-ok
Content-Length: 4

body