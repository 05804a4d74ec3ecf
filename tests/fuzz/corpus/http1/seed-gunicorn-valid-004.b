GET /silly HTTP/1.1
aaaaaaaaaaaaa:++++++++++

