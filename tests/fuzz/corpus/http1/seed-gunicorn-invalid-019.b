RGET /test HTTP/1.1
X-Forwarded-Proto: https
X-Forwarded-Ssl: off

