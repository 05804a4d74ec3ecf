»GET ftp://test/a HTTP/1.1
Host: test

