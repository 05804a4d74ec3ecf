#GET ///keeping_slashes HTTP/1.1

