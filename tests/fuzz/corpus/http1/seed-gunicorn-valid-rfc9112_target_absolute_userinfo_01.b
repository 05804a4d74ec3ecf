:GET http://user:pass@example.com:8080/foo?q=1 HTTP/1.1
Host: example.com:8080

