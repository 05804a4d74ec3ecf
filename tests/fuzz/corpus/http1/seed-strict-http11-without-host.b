®GET /a HTTP/1.1
X-A: b

