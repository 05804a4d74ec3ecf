üGET /

