ÁPOST /p HTTP/1.1
Host: test
Transfer-Encoding: gzip
Transfer-Encoding: chunked

0

