¹GET http://test/%00.css HTTP/1.1
Host: test

