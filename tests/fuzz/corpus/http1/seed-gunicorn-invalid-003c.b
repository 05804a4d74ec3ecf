B-bl /foo HTTP/1.1

