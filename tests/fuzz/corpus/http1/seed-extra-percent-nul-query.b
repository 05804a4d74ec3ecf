GET /a?b=%00 HTTP/1.1
Host: test

