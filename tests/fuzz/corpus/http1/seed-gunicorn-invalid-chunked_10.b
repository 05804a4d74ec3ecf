dPOST /chunked_ows_before HTTP/1.1
Transfer-Encoding: chunked

5
hello
 0

