ÈGET htp://a/ HTTP/1.1
Host: a

GET /s HTTP/1.1
Host: test

