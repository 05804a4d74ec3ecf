OPUT s://]ufd/: HTTP/1.1

