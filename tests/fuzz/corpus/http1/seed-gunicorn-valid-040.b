!GET /keep/same/as?invalid/040 HTTP/1.0
Transfer_Encoding: tricked
Content-Length: 7
Content_Length: -1E23

tricked
