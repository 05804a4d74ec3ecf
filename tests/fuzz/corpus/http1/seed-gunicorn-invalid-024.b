WGET /first HTTP/1.0
Content-Length: +1

