GET /get_no_headers_no_body/world HTTP/1.1

