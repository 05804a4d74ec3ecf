IGET /test HTTP/1.1
Accept: */*

