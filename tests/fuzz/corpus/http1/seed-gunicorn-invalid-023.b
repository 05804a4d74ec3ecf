VGET /first HTTP/1.0
Content-Length: 0_1

