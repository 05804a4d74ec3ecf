ÆGET http://u@example.com/ HTTP/1.1
Host: example.com

