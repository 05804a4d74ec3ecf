ÄGET http://example.com:8080/p?q HTTP/1.1
Host: other

