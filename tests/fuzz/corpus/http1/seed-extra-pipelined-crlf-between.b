öGET /1 HTTP/1.1
Host: test



GET /2 HTTP/1.1
Host: test

