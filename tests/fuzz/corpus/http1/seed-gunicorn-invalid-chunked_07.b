aPOST /chunked_ambiguous_header_mapping HTTP/1.1
Transfer_Encoding: gzip
Transfer-Encoding: chunked

5
hello
6
 world
0

