VERSION-CONTROL /v HTTP/1.1
Host: test

ORDERPATCH /o HTTP/1.1
Host: test

