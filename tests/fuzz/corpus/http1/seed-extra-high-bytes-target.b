øGET /Ã© HTTP/1.1
Host: test

