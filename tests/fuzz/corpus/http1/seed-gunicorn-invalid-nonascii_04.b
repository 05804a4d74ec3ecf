nGET /french.. HTTP/1.1
Content-Lengthÿ: 3
Content-Length: 3

ÄÄÄ