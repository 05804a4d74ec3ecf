ÊGET / HTTP/1.1
Host:

