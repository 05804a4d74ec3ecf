µGET /a HTTP/1.0

