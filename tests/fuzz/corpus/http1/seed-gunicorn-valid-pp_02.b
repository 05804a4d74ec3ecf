(PROXY TCP4 192.168.0.1 192.168.0.11 56324 443
GET /stuff/here?foo=bar HTTP/1.1
Server: http://127.0.0.1:5984
Content-Type: application/json
Content-Length: 14
Connection: keep-alive

{"nom": "nom"}POST /post_chunked_all_your_base HTTP/1.1
Transfer-Encoding: chunked

1e
all your base are belong to us
0

