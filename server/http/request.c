/* Requests (see server/http/request.h). */
#include "server/http/request.h"

const wh_header_t *wh_request_header(const wh_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++) {
        if (wh_name_equals(req->headers[i].name, name))
            return &req->headers[i];
    }
    return NULL;
}
