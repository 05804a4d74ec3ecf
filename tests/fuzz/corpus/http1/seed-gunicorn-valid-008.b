GET /unusual_content_length HTTP/1.0
conTENT-Length: 5

HELLO