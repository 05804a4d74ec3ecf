¦GET /a
Host: test

