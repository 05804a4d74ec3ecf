cPOST /chunked_ows_without_ext HTTP/1.1
Transfer-Encoding: chunked

5
hello
0 

