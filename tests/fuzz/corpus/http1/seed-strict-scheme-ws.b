½GET ws://test/a HTTP/1.1
Host: test

