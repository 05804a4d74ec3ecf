uGET /stuff/here?foo=bar HTTP/1.1
Content-Length: 0 1

x