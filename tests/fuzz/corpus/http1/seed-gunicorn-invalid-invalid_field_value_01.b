iGET / HTTP/1.1
Host: x
Newline: a
Content-Length: 26
GET / HTTP/1.1
Host: x

