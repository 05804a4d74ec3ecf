Abla:rgh /foo HTTP/1.1

