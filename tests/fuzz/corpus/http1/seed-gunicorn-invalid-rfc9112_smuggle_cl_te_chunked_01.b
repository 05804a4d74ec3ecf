‚POST /p HTTP/1.1
Host: example.com
Content-Length: 3
Transfer-Encoding: chunked

0

