ÅGET http://example.com HTTP/1.1
Host: example.com

