ÉGET * HTTP/1.1
Host: example.com

