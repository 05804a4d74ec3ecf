gPOST /chunked_no_chunk_size HTTP/1.1
Transfer-Encoding: chunked


hello
0

