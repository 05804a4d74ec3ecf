?GET HTTP/1.1

