¼GET /a HTTP/1.0

