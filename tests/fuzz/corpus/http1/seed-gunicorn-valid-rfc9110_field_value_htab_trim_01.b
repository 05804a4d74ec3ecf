0GET /foo HTTP/1.1
Host: example.com
X-Value:	abc	

