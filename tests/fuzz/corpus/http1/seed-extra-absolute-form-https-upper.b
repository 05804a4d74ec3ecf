ÇGET HTTPS://example.com/p HTTP/1.1
Host: x

