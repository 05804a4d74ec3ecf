ªGET /a
Host: test

