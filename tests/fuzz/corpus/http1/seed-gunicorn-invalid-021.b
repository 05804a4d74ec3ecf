TGET /stuff/here?foo=bar HTTP/1.1
Content-Length: 3
Content-Length: 2

xyz