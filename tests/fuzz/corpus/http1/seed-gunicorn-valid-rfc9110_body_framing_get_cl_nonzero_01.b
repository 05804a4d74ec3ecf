,GET /foo HTTP/1.1
Host: example.com
Content-Length: 5

hello