.POST /foo HTTP/1.0
Host: example.com
Content-Length: 5

hello