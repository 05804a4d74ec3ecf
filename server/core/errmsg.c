#include "server/core/errmsg.h"

#include <stdarg.h>
#include <stdio.h>

int wh_errorf(char *err, size_t size, const char *fmt, ...)
{
    if (size == 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return -1;
}
