8GET https://example.com/foo HTTP/1.1
Host: example.com

