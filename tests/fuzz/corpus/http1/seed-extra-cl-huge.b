ÚPOST /p HTTP/1.1
Host: test
Content-Length: 18446744073709551615

