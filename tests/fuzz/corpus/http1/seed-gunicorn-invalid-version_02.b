‡GET /foo HTTP/2.0

