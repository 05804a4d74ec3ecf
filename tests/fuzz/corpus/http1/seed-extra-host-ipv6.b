ÉGET / HTTP/1.1
Host: [::1]:8000

