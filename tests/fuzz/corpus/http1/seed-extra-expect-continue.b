ùPOST /p HTTP/1.1
Host: test
Expect: 100-continue
Content-Length: 4

body