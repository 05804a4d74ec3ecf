>GET /foo/bar HTTP/1.0
baz