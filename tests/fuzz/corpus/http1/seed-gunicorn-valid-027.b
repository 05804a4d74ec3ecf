GET /à%20k HTTP/1.0

