©GET /a http/1.1
Host: test

