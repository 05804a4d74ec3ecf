POST /chunked_w_extensions HTTP/1.1
Transfer-Encoding: chunked

5; some; parameters=stuff
hello
6; blahblah; blah
 world
0

