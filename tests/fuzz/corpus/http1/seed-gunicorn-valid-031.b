-BLARGH /foo HTTP/1.1

