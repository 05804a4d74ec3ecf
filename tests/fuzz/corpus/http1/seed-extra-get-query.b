¿GET /a/b%20c?x=1&y=%41#frag HTTP/1.1
Host: test

