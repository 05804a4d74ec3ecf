$GET / HTTP/1.1
Long: one
 two
Host: localhost

