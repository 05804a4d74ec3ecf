GET /é HTTP/1.1
Host: test

