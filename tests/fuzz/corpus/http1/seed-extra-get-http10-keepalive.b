ÁGET /a HTTP/1.0
Connection: keep-alive

GET /b HTTP/1.0

