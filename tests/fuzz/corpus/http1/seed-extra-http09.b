GET /

