ËGET / HTTP/1.1
Host: test
X_Forwarded_For: evil
X-Forwarded-For: good

