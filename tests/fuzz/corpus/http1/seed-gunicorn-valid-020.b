GET /first HTTP/1.0
Content-Length: 24

GET /second HTTP/1.1

