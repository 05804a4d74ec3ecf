9GET http://[::1]:8080/foo HTTP/1.1
Host: [::1]:8080

