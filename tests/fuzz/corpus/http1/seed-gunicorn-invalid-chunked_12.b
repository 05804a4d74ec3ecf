fPOST /chunked_no_chunk_size_but_ext HTTP/1.1
Transfer-Encoding: chunked

 ;foo=bar
hello
0

