ZGET /stuff/here?foo=bar HTTP/1.1
Host: localhost
Host: evil.example.com

