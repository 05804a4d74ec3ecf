hPOST /chunked_bare_cr_in_extension HTTP/1.1
Transfer-Encoding: chunked

5;ext=value
hello
0

