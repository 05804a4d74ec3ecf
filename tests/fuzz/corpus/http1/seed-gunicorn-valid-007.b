GET /get_one_header_no_body HTTP/1.1
Accept: */*

