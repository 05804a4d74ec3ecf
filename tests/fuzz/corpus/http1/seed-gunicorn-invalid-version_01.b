†GET /foo HTTP/0.99

