CONNECT a:443 HTTP/1.1
Host: a:443

