·GET /a%00b/c HTTP/1.1
Host: test

