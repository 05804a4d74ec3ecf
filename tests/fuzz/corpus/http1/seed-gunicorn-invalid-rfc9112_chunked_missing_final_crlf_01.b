~POST /chunked_missing_final_crlf HTTP/1.1
Host: a
Transfer-Encoding: chunked

0
