üPOST /ws HTTP/1.1
Host: test
Connection: Upgrade
Upgrade: h2c
Content-Length: 3

abcGET /s HTTP/1.1
Host: test

