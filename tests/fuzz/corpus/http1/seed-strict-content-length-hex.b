ŒPOST /a HTTP/1.1
Host: test
Content-Length: 0x5

hello