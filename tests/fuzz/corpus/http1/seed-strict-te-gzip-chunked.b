ŽPOST /a HTTP/1.1
Host: test
Transfer-Encoding: gzip, chunked

0

