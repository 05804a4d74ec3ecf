vGET /stuff/here?foo=bar HTTP/1.1
Content-Length: 3 1

xyzabc123