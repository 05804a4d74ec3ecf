´GET a/b HTTP/1.1
Host: test

