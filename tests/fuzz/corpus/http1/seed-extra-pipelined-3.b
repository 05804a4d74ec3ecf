õGET /1 HTTP/1.1
Host: test

POST /2 HTTP/1.1
Host: test
Content-Length: 2

okGET /3 HTTP/1.1
Host: test
Connection: close

GET /4 HTTP/1.1
Host: test

