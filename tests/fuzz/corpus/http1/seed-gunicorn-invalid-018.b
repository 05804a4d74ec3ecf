QGET /test HTTP/111
Host: localhost

