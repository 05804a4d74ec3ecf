GET /first HTTP/1.1
Connection: Close

GET /second HTTP/1.1

