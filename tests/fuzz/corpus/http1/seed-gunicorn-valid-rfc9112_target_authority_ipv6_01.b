=CONNECT [::1]:443 HTTP/1.1
Host: [::1]:443

