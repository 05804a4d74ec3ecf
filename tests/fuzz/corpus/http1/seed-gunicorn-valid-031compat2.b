 -blargh /foo HTTP/1.1

