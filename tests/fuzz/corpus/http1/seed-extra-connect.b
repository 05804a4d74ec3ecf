ýCONNECT example.com:443 HTTP/1.1
Host: example.com:443

