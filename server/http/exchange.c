/* Exchanges: one request and its response in flight between the loop and a runner thread.
 * See server/http/exchange.h (runner side) and server/http/exchange_loop.h (loop side). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/http/exchange_loop.h"
#include "server/core/log.h"
#include "server/http/response.h"

/* Memory segments are allocated at least this big, so small writes share one. */
enum { OUTSEG_MIN_CAPACITY = 16 * 1024 };
/* A runner producing more than the high-water mark waits until the loop has written the queue
 * down to the low-water mark: a slow client costs this much memory, never more. */
enum { OUTPUT_HIGH_WATER = 1024 * 1024, OUTPUT_LOW_WATER = 256 * 1024 };

enum { MS_PER_SECOND = 1000, NS_PER_MS = 1000000 };

/* The notifier of the loop this runner thread hands output to (see exchange_loop.h), once it
 * has handed any. */
static _Thread_local wh_notifier_t *owing;

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail with this clock */
    return (uint64_t)ts.tv_sec * MS_PER_SECOND + (uint64_t)ts.tv_nsec / NS_PER_MS;
}

wh_exchange_t *wh_exchange_new(wh_notifier_t *notifier)
{
    wh_exchange_t *ex = calloc(1, sizeof(*ex));
    if (ex == NULL)
        return NULL;
    if (pthread_mutex_init(&ex->mu, NULL) != 0) {
        free(ex);
        return NULL;
    }
    if (pthread_cond_init(&ex->writable, NULL) != 0) {
        pthread_mutex_destroy(&ex->mu);
        free(ex);
        return NULL;
    }
    ex->notifier = notifier;
    ex->req.body_fd = -1;
    ex->declared_length = -1;
    atomic_init(&ex->refs, 1);
    return ex;
}

void wh_outseg_free_list(wh_outseg_t *seg)
{
    while (seg) {
        wh_outseg_t *next = seg->next;
        if (seg->fd >= 0)
            close(seg->fd);
        free(seg);
        seg = next;
    }
}

void wh_exchange_unref(wh_exchange_t *ex)
{
    if (atomic_fetch_sub(&ex->refs, 1) != 1)
        return;
    wh_outseg_free_list(ex->out_head);
    if (ex->req.body_fd >= 0)
        close(ex->req.body_fd);
    free(ex->req_strings);
    free(ex->req_headers);
    free(ex->req_body);
    if (ex->observer_data)
        ex->observer->exchange_free(ex->observer->self, ex->observer_data);
    pthread_cond_destroy(&ex->writable);
    pthread_mutex_destroy(&ex->mu);
    free(ex);
}

const wh_request_t *wh_exchange_request(const wh_exchange_t *ex)
{
    return &ex->req;
}

const char *wh_exchange_keep_text(wh_exchange_t *ex, const char *s, size_t len)
{
    if (len > sizeof(ex->text) - ex->text_len)
        return NULL;
    char *kept = ex->text + ex->text_len;
    memcpy(kept, s, len);
    ex->text_len += len;
    return kept;
}

/* ---- notifier ---------------------------------------------------------------------------- */

int wh_notifier_init(wh_notifier_t *n, uv_loop_t *loop, uv_async_cb cb)
{
    n->head = n->tail = NULL;
    n->closed = false;
    n->owed = n->loop_waiting = false;
    n->pays = 0;
    n->write_now = NULL;
    atomic_init(&n->outstanding, 0);
    if (pthread_mutex_init(&n->mu, NULL) != 0)
        return -1;
    pthread_condattr_t attr;
    bool cond_ok = pthread_condattr_init(&attr) == 0;
    if (cond_ok) {
        cond_ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                  pthread_cond_init(&n->paid_cond, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!cond_ok) {
        pthread_mutex_destroy(&n->mu);
        return -1;
    }
    if (uv_async_init(loop, &n->async, cb) != 0) {
        pthread_cond_destroy(&n->paid_cond);
        pthread_mutex_destroy(&n->mu);
        return -1;
    }
    n->async.data = n;
    return 0;
}

void wh_notifier_close(wh_notifier_t *n)
{
    pthread_mutex_lock(&n->mu);
    n->closed = true;
    pthread_mutex_unlock(&n->mu);
    uv_close((uv_handle_t *)&n->async, NULL);
}

wh_exchange_t *wh_notifier_take(wh_notifier_t *n)
{
    pthread_mutex_lock(&n->mu);
    wh_exchange_t *list = n->head;
    n->head = n->tail = NULL;
    n->owed = false; /* the loop is awake and has them */
    pthread_mutex_unlock(&n->mu);
    return list;
}

void wh_notifier_pay(bool stale_only)
{
    wh_notifier_t *n = owing;
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    bool due = n->owed && !n->closed &&
               (!stale_only || monotonic_ms() - n->owed_since_ms >= WH_WAKE_HOLD_MS);
    if (due || !stale_only) {
        /* About to block, owed or not, releases a waiting loop: this runner goes idle. */
        n->owed = false;
        n->pays++;
        if (n->loop_waiting)
            pthread_cond_signal(&n->paid_cond);
        else if (due)
            uv_async_send(&n->async); /* under the lock, so the handle cannot close meanwhile */
    }
    pthread_mutex_unlock(&n->mu);
}

uint64_t wh_notifier_pays(wh_notifier_t *n)
{
    pthread_mutex_lock(&n->mu);
    uint64_t pays = n->pays;
    pthread_mutex_unlock(&n->mu);
    return pays;
}

void wh_notifier_wait(wh_notifier_t *n, uint64_t pays)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)WH_WAKE_HOLD_MS * NS_PER_MS;
    if (until.tv_nsec >= (long)MS_PER_SECOND * NS_PER_MS) {
        until.tv_sec++;
        until.tv_nsec -= (long)MS_PER_SECOND * NS_PER_MS;
    }
    pthread_mutex_lock(&n->mu);
    n->loop_waiting = true;
    while (n->pays == pays && pthread_cond_timedwait(&n->paid_cond, &n->mu, &until) != ETIMEDOUT) {
    }
    n->loop_waiting = false;
    pthread_mutex_unlock(&n->mu);
}

/* Puts the exchange on the ready list (once); the wake-up is owed (see exchange_loop.h).
 * Called with ex->mu held, so the loop's take_output sees whatever was queued before this. */
static void notify_locked(wh_exchange_t *ex)
{
    if (ex->in_ready || ex->local)
        return;
    wh_notifier_t *n = ex->notifier;
    pthread_mutex_lock(&n->mu);
    if (n->closed) {
        pthread_mutex_unlock(&n->mu);
        return;
    }
    ex->in_ready = true;
    atomic_fetch_add(&ex->refs, 1); /* the ready list's reference */
    ex->next_ready = NULL;
    if (n->tail)
        n->tail->next_ready = ex;
    else
        n->head = ex;
    n->tail = ex;
    if (!n->owed) {
        n->owed = true;
        n->owed_since_ms = monotonic_ms();
    }
    owing = n;
    pthread_mutex_unlock(&n->mu);
}

/* ---- loop side --------------------------------------------------------------------------- */

wh_outseg_t *wh_exchange_take_output(wh_exchange_t *ex, unsigned *state)
{
    pthread_mutex_lock(&ex->mu);
    wh_outseg_t *list = ex->out_head;
    ex->out_head = ex->out_tail = NULL;
    ex->in_ready = false;
    *state = ex->state;
    pthread_mutex_unlock(&ex->mu);
    return list;
}

void wh_exchange_written(wh_exchange_t *ex, uint64_t bytes)
{
    pthread_mutex_lock(&ex->mu);
    bool was_full = ex->queued_bytes > OUTPUT_LOW_WATER;
    ex->queued_bytes -= bytes < ex->queued_bytes ? bytes : ex->queued_bytes;
    bool wake = was_full && ex->queued_bytes <= OUTPUT_LOW_WATER;
    pthread_mutex_unlock(&ex->mu);
    if (wake)
        pthread_cond_signal(&ex->writable);
}

void wh_exchange_detach(wh_exchange_t *ex)
{
    pthread_mutex_lock(&ex->mu);
    ex->client_gone = true;
    ex->owner = NULL;
    pthread_mutex_unlock(&ex->mu);
    pthread_cond_broadcast(&ex->writable);
}

/* ---- runner side ------------------------------------------------------------------------- */

/* The tail memory segment with room for `len` bytes, appending a new one when needed. */
static wh_outseg_t *tail_with_room_locked(wh_exchange_t *ex, size_t len)
{
    wh_outseg_t *tail = ex->out_tail;
    if (tail && tail->fd < 0 && tail->cap - tail->len >= len)
        return tail;
    size_t cap = len > OUTSEG_MIN_CAPACITY ? len : OUTSEG_MIN_CAPACITY;
    wh_outseg_t *seg = malloc(sizeof(*seg) + cap);
    if (seg == NULL)
        return NULL;
    seg->next = NULL;
    seg->fd = -1;
    seg->offset = seg->len = 0;
    seg->cap = cap;
    if (tail)
        tail->next = seg;
    else
        ex->out_head = seg;
    ex->out_tail = seg;
    return seg;
}

/* Queues bytes (under ex->mu). */
static int queue_bytes_locked(wh_exchange_t *ex, const void *data, size_t len)
{
    wh_outseg_t *seg = tail_with_room_locked(ex, len);
    if (seg == NULL)
        return -1;
    memcpy(seg->data + seg->len, data, len);
    seg->len += len;
    ex->queued_bytes += len;
    return 0;
}

static int queue_buf_locked(wh_exchange_t *ex, const wh_buf_t *buf)
{
    return queue_bytes_locked(ex, buf->data, buf->len);
}

/* Checks what the app set and decides how the body is framed. */
static int plan_framing(wh_exchange_t *ex, int code, const wh_header_t *headers, size_t count,
                        int64_t hint, wh_head_opts_t *opts, bool *app_length)
{
    bool close_asked = false;
    *app_length = false;
    for (size_t i = 0; i < count; i++) {
        if (!wh_header_valid(&headers[i]))
            return WH_EINVAL; /* the caller names it (pyglue raises ValueError in the app) */
        if (wh_name_equals(headers[i].name, "Content-Length")) {
            uint64_t len;
            if (*app_length || wh_parse_content_length(headers[i].value, &len) != 0) {
                wh_log(WH_LOG_ERROR, "the app sent an invalid or repeated Content-Length");
                return WH_EINVAL;
            }
            *app_length = true;
            ex->declared_length = (int64_t)len;
        } else if (wh_name_equals(headers[i].name, "Connection") && headers[i].value.len == 5 &&
                   wh_name_equals(headers[i].value, "close")) {
            close_asked = true;
        }
    }
    bool no_body = ex->head_request || code == 204 || code == 304 || code < 200;
    ex->body_dropped = no_body;
    opts->http10 = ex->http10;
    opts->keep_alive = ex->keep_alive_wanted && !close_asked;
    opts->framing = WH_FRAMING_NONE;
    if (*app_length || code == 204 || code == 304 || code < 200)
        return WH_OK;
    if (hint >= 0) {
        opts->framing = WH_FRAMING_LENGTH;
        opts->length = (uint64_t)hint;
        ex->declared_length = hint;
    } else if (ex->head_request) {
        /* Unknown length and no body to send: say nothing about framing. */
    } else if (!ex->http10) {
        opts->framing = WH_FRAMING_CHUNKED;
        ex->chunked = true;
    } else {
        opts->framing = WH_FRAMING_CLOSE;
        opts->keep_alive = false;
    }
    return WH_OK;
}

/* Response headers copied on the stack to add X-Request-ID (more go to the heap). */
enum { ID_STACK_HEADERS = 32 };

static bool has_header(const wh_header_t *headers, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (wh_name_equals(headers[i].name, name))
            return true;
    }
    return false;
}

int wh_exchange_start(wh_exchange_t *ex, const char *status, size_t status_len,
                      const wh_header_t *headers, size_t header_count, int64_t body_len_hint)
{
    if (ex->status_code != 0)
        return WH_ESTATE;
    int code = wh_status_parse(status, status_len);
    if (code < WH_APP_STATUS_MIN) /* 1xx interim answers are the server's, not the app's */
        return WH_EINVAL;         /* the caller names it, as for headers */
    wh_head_opts_t opts;
    bool app_length;
    int rc = plan_framing(ex, code, headers, header_count, body_len_hint, &opts, &app_length);
    if (rc != WH_OK)
        return rc;
    /* --request-id: the ID goes back to the client, unless the app answered with its own. */
    bool add_id = ex->req.request_id.len > 0 && !has_header(headers, header_count, "X-Request-ID");
    /* RFC 9110 §8.6: never a Content-Length on a 204; on a 304 only the selected
     * representation's length, which a 0 is not (the 304's own empty body, as Django's
     * CommonMiddleware sets it): the field is optional there, so it is left out. */
    bool drop_length = app_length && (code == 204 || (code == 304 && ex->declared_length == 0));
    wh_header_t copy[ID_STACK_HEADERS], *heap = NULL;
    if (add_id || drop_length) {
        wh_header_t *all = header_count < ID_STACK_HEADERS
                               ? copy
                               : (heap = malloc((header_count + 1) * sizeof(*heap)));
        if (all == NULL && drop_length)
            return WH_ECLIENT; /* out of memory */
        if (all != NULL) {
            size_t n = 0;
            for (size_t i = 0; i < header_count; i++) {
                if (!drop_length || !wh_name_equals(headers[i].name, "Content-Length"))
                    all[n++] = headers[i];
            }
            if (add_id)
                all[n++] = (wh_header_t){{"X-Request-ID", 12}, ex->req.request_id};
            headers = all;
            header_count = n;
        }
    }
    wh_buf_t head = WH_BUF_INIT;
    rc = wh_response_head(&head, status, status_len, headers, header_count, &opts);
    if (rc == 0 && ex->observer)
        ex->observer->response_head(ex->observer->self, ex, code, headers, header_count);
    free(heap);
    if (rc != 0) {
        wh_buf_free(&head);
        return WH_ECLIENT;
    }
    pthread_mutex_lock(&ex->mu);
    ex->status_code = code;
    if (ex->client_gone) {
        pthread_mutex_unlock(&ex->mu);
        wh_buf_free(&head);
        return WH_ECLIENT;
    }
    rc = queue_buf_locked(ex, &head) == 0 ? WH_OK : WH_ECLIENT;
    ex->state |= WH_EX_STARTED;
    if (!opts.keep_alive)
        ex->state |= WH_EX_CLOSE;
    pthread_mutex_unlock(&ex->mu);
    wh_buf_free(&head);
    return rc;
}

/* How many of `len` body bytes may go out without passing a declared Content-Length. Marks the
 * connection for closing when the app overruns its own declaration. */
static size_t clamp_to_declared(wh_exchange_t *ex, size_t len)
{
    if (ex->declared_length < 0)
        return len;
    uint64_t room = (uint64_t)ex->declared_length - ex->body_written;
    if (len <= room)
        return len;
    wh_log(WH_LOG_ERROR, "the app wrote more than its Content-Length of %lld; cut short",
           (long long)ex->declared_length);
    pthread_mutex_lock(&ex->mu);
    ex->state |= WH_EX_CLOSE;
    pthread_mutex_unlock(&ex->mu);
    return (size_t)room;
}

static int queued_result_locked(wh_exchange_t *ex)
{
    notify_locked(ex);
    return ex->queued_bytes > OUTPUT_HIGH_WATER ? WH_FULL : WH_OK;
}

int wh_exchange_write(wh_exchange_t *ex, const void *data, size_t len)
{
    if (ex->status_code == 0)
        return WH_ESTATE;
    if (len == 0)
        return WH_OK;
    len = clamp_to_declared(ex, len);
    ex->body_written += len;
    if (ex->body_dropped || len == 0)
        return ex->client_gone ? WH_ECLIENT : WH_OK;
    pthread_mutex_lock(&ex->mu);
    if (ex->client_gone) {
        pthread_mutex_unlock(&ex->mu);
        return WH_ECLIENT;
    }
    int rc = 0;
    if (ex->chunked) {
        char size_line[WH_CHUNK_HEADER_MAX + 1];
        wh_buf_t frame = {size_line, 0, sizeof(size_line)};
        rc |= wh_chunk_begin(&frame, len);
        rc |= queue_buf_locked(ex, &frame);
    }
    rc |= queue_bytes_locked(ex, data, len);
    if (ex->chunked)
        rc |= queue_bytes_locked(ex, "\r\n", WH_CHUNK_TRAILER_LEN);
    if (rc != 0) {
        ex->state |= WH_EX_CLOSE;
        pthread_mutex_unlock(&ex->mu);
        return WH_ECLIENT;
    }
    rc = queued_result_locked(ex);
    pthread_mutex_unlock(&ex->mu);
    return rc;
}

int wh_exchange_sendfile(wh_exchange_t *ex, int fd, int64_t offset, int64_t count)
{
    if (ex->status_code == 0)
        return WH_ESTATE;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || offset < 0)
        return WH_EINVAL;
    if (count < 0 || offset + count > st.st_size)
        count = st.st_size > offset ? st.st_size - offset : 0;
    size_t len = clamp_to_declared(ex, (size_t)count);
    ex->body_written += len;
    if (ex->body_dropped || len == 0)
        return ex->client_gone ? WH_ECLIENT : WH_OK;
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return WH_EINVAL;
    wh_outseg_t *seg = malloc(sizeof(*seg));
    if (seg == NULL) {
        close(dup_fd);
        return WH_ECLIENT;
    }
    seg->next = NULL;
    seg->fd = dup_fd;
    seg->offset = (uint64_t)offset;
    seg->len = len;
    seg->cap = 0;
    pthread_mutex_lock(&ex->mu);
    int rc = WH_OK;
    if (ex->client_gone) {
        rc = WH_ECLIENT;
    } else if (ex->chunked) {
        char size_line[WH_CHUNK_HEADER_MAX + 1];
        wh_buf_t frame = {size_line, 0, sizeof(size_line)};
        if (wh_chunk_begin(&frame, len) != 0 || queue_buf_locked(ex, &frame) != 0)
            rc = WH_ECLIENT;
    }
    if (rc != WH_OK) {
        pthread_mutex_unlock(&ex->mu);
        wh_outseg_free_list(seg);
        return rc;
    }
    if (ex->out_tail)
        ex->out_tail->next = seg;
    else
        ex->out_head = seg;
    ex->out_tail = seg;
    /* File bytes cost no memory; count only a little so the queue still drains in order. */
    if (ex->chunked && queue_bytes_locked(ex, "\r\n", WH_CHUNK_TRAILER_LEN) != 0)
        ex->state |= WH_EX_CLOSE;
    rc = queued_result_locked(ex);
    pthread_mutex_unlock(&ex->mu);
    return rc;
}

/* wh_exchange_wait_writable on the loop thread (--threads 0): it writes the output itself. */
static int write_on_loop(wh_exchange_t *ex)
{
    for (;;) {
        pthread_mutex_lock(&ex->mu);
        bool gone = ex->client_gone;
        bool full = ex->queued_bytes > OUTPUT_LOW_WATER;
        pthread_mutex_unlock(&ex->mu);
        if (gone)
            return WH_ECLIENT;
        if (!full)
            return WH_OK;
        /* Not gone, so not detached: the owner is still there. */
        if (ex->notifier->write_now(ex->owner) != 0)
            return WH_ECLIENT;
    }
}

int wh_exchange_wait_writable(wh_exchange_t *ex)
{
    if (ex->notifier->write_now)
        return write_on_loop(ex);
    wh_notifier_pay(false); /* the loop writes what is queued */
    pthread_mutex_lock(&ex->mu);
    while (!ex->client_gone && ex->queued_bytes > OUTPUT_LOW_WATER)
        pthread_cond_wait(&ex->writable, &ex->mu);
    int rc = ex->client_gone ? WH_ECLIENT : WH_OK;
    pthread_mutex_unlock(&ex->mu);
    return rc;
}

void wh_exchange_flush(wh_exchange_t *ex)
{
    if (ex->notifier->write_now == NULL)
        return;
    pthread_mutex_lock(&ex->mu);
    bool gone = ex->client_gone;
    pthread_mutex_unlock(&ex->mu);
    /* Not gone, so not detached: the owner is still there. A failed write closes the
     * connection, which the finish then finds. */
    if (!gone)
        (void)ex->notifier->write_now(ex->owner);
}

static void finish_output(wh_exchange_t *ex, enum wh_finish how);

void wh_exchange_finish(wh_exchange_t *ex, enum wh_finish how)
{
    atomic_fetch_sub(&ex->notifier->outstanding, 1);
    finish_output(ex, how);
    wh_exchange_unref(ex);
}

void wh_exchange_finish_local(wh_exchange_t *ex, enum wh_finish how)
{
    finish_output(ex, how);
}

/* Queues what ends the response (last chunk, or a 500) and marks it finished. */
static void finish_output(wh_exchange_t *ex, enum wh_finish how)
{
    wh_buf_t tail = WH_BUF_INIT;
    bool started = ex->status_code != 0;
    bool cut_short = false;
    if (how == WH_FINISH_ERROR && !started) {
        ex->status_code = 500;
        if (wh_response_simple(&tail, 500, NULL, NULL, !ex->keep_alive_wanted) != 0)
            cut_short = true;
        if (ex->observer) { /* what the 500 carries besides its framing */
            static const wh_header_t answer[] = {
                {{"Content-Type", 12},
                 {WH_SIMPLE_CONTENT_TYPE, sizeof(WH_SIMPLE_CONTENT_TYPE) - 1}}};
            ex->observer->response_head(ex->observer->self, ex, 500, answer,
                                        sizeof(answer) / sizeof(answer[0]));
        }
    } else if (how == WH_FINISH_ERROR) {
        cut_short = true;
    } else if (ex->chunked) {
        if (wh_chunk_last(&tail) != 0)
            cut_short = true;
    } else if (ex->declared_length >= 0 && !ex->body_dropped &&
               ex->body_written < (uint64_t)ex->declared_length) {
        wh_log(WH_LOG_ERROR,
               "the app wrote %llu bytes of its Content-Length of %lld; "
               "closing the connection",
               (unsigned long long)ex->body_written, (long long)ex->declared_length);
        cut_short = true;
    }
    pthread_mutex_lock(&ex->mu);
    if (!started) {
        ex->state |= WH_EX_STARTED;
        if (!ex->keep_alive_wanted)
            ex->state |= WH_EX_CLOSE;
    }
    if (tail.len > 0 && !ex->client_gone && queue_buf_locked(ex, &tail) != 0)
        cut_short = true;
    if (cut_short)
        ex->state |= WH_EX_CLOSE;
    ex->state |= WH_EX_FINISHED;
    notify_locked(ex);
    pthread_mutex_unlock(&ex->mu);
    wh_buf_free(&tail);
}
