 G/T /a HTTP/1.1
Host: test

