CGET /foo FTP/1.1

