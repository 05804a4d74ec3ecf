¶GET /a%zz HTTP/1.1
Host: test

