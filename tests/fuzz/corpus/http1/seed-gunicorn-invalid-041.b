YGET /stuff/here?foo=bar HTTP/1.1
Host: localhost
Content-Type: application/json
Content-Type: text/html

