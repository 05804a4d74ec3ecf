lGETÿ /french.. HTTP/1.1
Content-Length: 3

ÄÄÄ