ûGET /ws HTTP/1.1
Host: test
Connection: Upgrade
Upgrade: websocket

GET /s HTTP/1.1
Host: test

