¸GET /a/%00?x=1 HTTP/1.1
Host: test

