GET /

