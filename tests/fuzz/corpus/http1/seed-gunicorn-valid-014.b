GET /with_"quotes"?foo="bar" HTTP/1.1

