&GET / HTTP/1.1
Host: localhost
Name: 	 value 	 

