7GET http://example.com/foo?q=1 HTTP/1.1
Host: example.com

