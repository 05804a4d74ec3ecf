ÌGET / HTTP/1.1
Host: test
Accept: a
Accept: b
Cookie: x=1
Cookie: y=2

