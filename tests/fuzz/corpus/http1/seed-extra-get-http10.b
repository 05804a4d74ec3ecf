ÀGET /a HTTP/1.0

