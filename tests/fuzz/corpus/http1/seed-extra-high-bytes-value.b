GET / HTTP/1.1
Host: test
X-A: café

