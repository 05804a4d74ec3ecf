/* The server's own pass over request bytes before llhttp sees them, for what llhttp cannot be
 * trusted with or does not know:
 *   - the method: any RFC 9110 §9.1 token is a method (llhttp knows a fixed list), so the
 *     scanner takes the method itself and llhttp is given a stand-in;
 *   - the head: NUL, bare LF and obs-fold are refused (RFC 9112 §2.2, §5.2);
 *   - the chunk-size lines of a chunked body: validated here (RFC 9112 §7.1.1, no whitespace),
 *     their extensions counted against limits and never given to llhttp (which would ignore
 *     them, and llhttp 8 refuses valid lists with values).
 * It keeps its own view of the framing (head end, chunk sizes) so that it knows which bytes
 * are which; llhttp still parses everything it is given, so the two must agree or the request
 * is refused. */
#ifndef WSGIHOST_PRESCAN_H
#define WSGIHOST_PRESCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A chunk-size line (size and extensions) longer than this is refused with 413: extensions
 * carry nothing we use, and a line is all a client needs for any it has a reason to send. */
enum { WH_CHUNK_LINE_MAX = 4096 };
/* Empty lines skipped before a request line (RFC 9112 §2.2 asks for at least one: the CRLF
 * some old clients send after a POST body). */
enum { WH_EMPTY_LINES_MAX = 4 };

typedef enum {
    WH_SCAN_FEED,       /* give these bytes to llhttp as they are */
    WH_SCAN_SKIP,       /* consumed here, not given to llhttp (empty lines, chunk extensions) */
    WH_SCAN_METHOD,     /* bytes of the method: keep them, do not give them to llhttp */
    WH_SCAN_METHOD_END, /* the space after the method: give llhttp wh_prescan_stand_in() */
    WH_SCAN_ERROR,      /* refuse the request: status and detail are set */
} wh_scan_action_t;

typedef struct {
    int state;
    unsigned char prev;   /* head: the previous byte (a LF must follow a CR) */
    uint32_t line_len;    /* head: bytes of the current line */
    bool in_request_line; /* head: still in the request line */
    uint32_t empty_lines; /* skipped before the request line */
    uint32_t method_len;  /* the method so far */
    bool is_connect;      /* the method so far is a prefix of "CONNECT" */
    uint64_t chunk_size;  /* size line being read, then data bytes still to come */
    uint32_t size_digits; /* hex digits of the size line */
    uint32_t line_bytes;  /* bytes of the chunk-size line so far */
    uint64_t ext_bytes;   /* extension bytes of this request (counted with the body) */
    int status;
    const char *detail;
} wh_prescan_t;

void wh_prescan_reset(wh_prescan_t *s);

/* Looks at data[0..len) (len > 0) and says what to do with its first *n bytes (n >= 1 unless
 * the action is WH_SCAN_ERROR). */
wh_scan_action_t wh_prescan_next(wh_prescan_t *s, const char *data, size_t len, size_t *n);

/* True once the head (through its blank line) has been handed out and the scanner waits for
 * wh_prescan_body. */
bool wh_prescan_at_body(const wh_prescan_t *s);
/* Called when llhttp has parsed the head: how the body is framed. */
void wh_prescan_body(wh_prescan_t *s, bool chunked);

/* What llhttp is given in place of the method and its space: "CONNECT " for CONNECT (so that
 * llhttp reads its authority-form target), "GET " for every other method. */
const char *wh_prescan_stand_in(const wh_prescan_t *s);

#endif
