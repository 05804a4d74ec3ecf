QUERY /q HTTP/1.1
Host: test
Content-Length: 2

q1GET /s HTTP/1.1
Host: test

