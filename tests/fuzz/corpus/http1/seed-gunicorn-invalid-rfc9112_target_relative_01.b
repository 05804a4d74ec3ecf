…GET foo/bar HTTP/1.1
Host: example.com

