mGET /germans.. HTTP/1.1
Content-Lengthß: 3
Content-Length: 3

ÄÄÄ