GET /a%2fb%2F..%2e HTTP/1.1
Host: test

