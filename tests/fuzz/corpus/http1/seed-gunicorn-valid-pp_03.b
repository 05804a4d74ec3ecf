)GET /no/proxy/header HTTP/1.1
Host: example.com
Content-Length: 0

