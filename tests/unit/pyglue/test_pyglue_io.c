/* pyglue's building blocks with an embedded interpreter: wsgi.input over memory and over a
 * spooled file, the environ builder, wsgi.errors and wsgi.file_wrapper. Checks that are easier
 * to state in Python run as Python snippets over the objects under test. */
#include "pyglue/compat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pyglue/environ.h"
#include "pyglue/errors.h"
#include "pyglue/filewrapper.h"
#include "pyglue/input.h"
#include "server/core/log.h"

#define STR(s) ((wh_str_t){s, sizeof(s) - 1})

/* Runs `code` with `names` bound to `objs`; fails the test unless it ends with ok = True. */
static void check_python(const char *code, int count, const char *const *names, PyObject **objs)
{
    PyObject *globals = PyDict_New();
    assert_non_null(globals);
    assert_int_equal(PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()), 0);
    for (int i = 0; i < count; i++)
        assert_int_equal(PyDict_SetItemString(globals, names[i], objs[i]), 0);
    PyObject *res = PyRun_String(code, Py_file_input, globals, globals);
    if (res == NULL)
        PyErr_Print();
    assert_non_null(res);
    Py_DECREF(res);
    PyObject *ok = PyDict_GetItemString(globals, "ok");
    assert_true(ok == Py_True);
    Py_DECREF(globals);
}

static const char body_text[] = "abc\ndef\n\nlast line without newline";

static const char input_checks[] = "import io\n"
                                   "ref = io.BytesIO(expected)\n"
                                   "assert inp.read(2) == ref.read(2)\n"
                                   "assert inp.readline() == ref.readline()\n"
                                   "assert inp.readline(2) == ref.readline(2)\n"
                                   "assert inp.readline(None) == ref.readline(None)\n"
                                   "assert inp.readlines(5) == ref.readlines(5)\n"
                                   "assert list(inp) == list(ref)\n"
                                   "assert inp.read() == b'' and inp.readline() == b''\n"
                                   "assert inp.readable()\n"
                                   "ok = True\n";

static void attach_and_check(wh_request_t *req, PyObject *expected)
{
    PyObject *input = wh_input_new();
    assert_non_null(input);
    wh_input_attach(input, req);
    const char *names[] = {"inp", "expected"};
    PyObject *objs[] = {input, expected};
    check_python(input_checks, 2, names, objs);

    /* After the exchange: no reads into freed memory. */
    wh_input_detach(input);
    check_python("try:\n    inp.read()\nexcept ValueError:\n    ok = True\n", 1, names, objs);
    Py_DECREF(input);
}

static void test_input_memory(void **state)
{
    (void)state;
    wh_request_t req = {0};
    req.body = body_text;
    req.body_len = sizeof(body_text) - 1;
    req.body_fd = -1;
    req.has_body = true;
    PyObject *expected = PyBytes_FromStringAndSize(body_text, sizeof(body_text) - 1);
    attach_and_check(&req, expected);
    Py_DECREF(expected);
}

/* A body spooled to a file, with lines that straddle the read-ahead block. */
static void test_input_spooled(void **state)
{
    (void)state;
    PyObject *expected =
        PyRun_String("b''.join(b'x' * (i * 7919 % 70000) + b'\\n' for i in range(40)) + b'tail'",
                     Py_eval_input, PyEval_GetBuiltins(), NULL);
    assert_non_null(expected);
    char path[] = "/tmp/test_pyglue_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(unlink(path), 0);
    size_t len = (size_t)PyBytes_GET_SIZE(expected);
    assert_int_equal(write(fd, PyBytes_AS_STRING(expected), len), (ssize_t)len);

    wh_request_t req = {0};
    req.body_fd = fd;
    req.body_len = len;
    req.has_body = true;
    attach_and_check(&req, expected);
    close(fd);
    Py_DECREF(expected);
}

static void test_input_no_body(void **state)
{
    (void)state;
    wh_request_t req = {0};
    req.body_fd = -1;
    PyObject *expected = PyBytes_FromStringAndSize(NULL, 0);
    attach_and_check(&req, expected);
    Py_DECREF(expected);
}

static void test_environ(void **state)
{
    (void)state;
    static char long_name[400];
    memset(long_name, 'a', sizeof(long_name));
    const wh_header_t headers[] = {
        {STR("Host"), STR("example.com")},
        {STR("cookie"), STR("a=1")},
        {STR("X-Dup"), STR("1")},
        {STR("Cookie"), STR("b=2")},
        {STR("x-dup"), STR("2")},
        {STR("Content-Type"), STR("text/plain")},
        {STR("Content-Length"), STR("999")},
        {STR("X-Latin"), STR("caf\xe9")},
        {{long_name, sizeof(long_name)}, STR("long")},
    };
    wh_request_t req = {
        .method = STR("POST"),
        .target = STR("/caf%C3%A9?q=1"),
        .path = STR("/caf\xc3\xa9"),
        .query = STR("q=1"),
        .version = STR("HTTP/1.1"),
        .headers = headers,
        .header_count = sizeof(headers) / sizeof(headers[0]),
        .has_body = true,
        .body_len = 5,
        .body = "hello",
        .body_fd = -1,
        .remote_addr = STR("10.0.0.1"),
        .remote_port = STR("4242"),
        .server_name = STR("127.0.0.1"),
        .server_port = STR("8000"),
        .url_scheme = STR("http"),
    };
    PyObject *input = wh_input_new();
    assert_non_null(input);
    wh_input_attach(input, &req);
    PyObject *env = wh_environ_build(&req, input);
    assert_non_null(env);
    const char *names[] = {"env", "inp"};
    PyObject *objs[] = {env, input};
    check_python("import sys\n"
                 "assert env['REQUEST_METHOD'] == 'POST'\n"
                 "assert sys.intern('POST') is env['REQUEST_METHOD']\n"
                 "assert env['PATH_INFO'] == '/caf\\xc3\\xa9'\n"
                 "assert env['PATH_INFO'].encode('latin-1').decode() == '/caf\\xe9'\n"
                 "assert env['RAW_URI'] == env['REQUEST_URI'] == '/caf%C3%A9?q=1'\n"
                 "assert env['QUERY_STRING'] == 'q=1' and env['SCRIPT_NAME'] == ''\n"
                 "assert env['SERVER_PROTOCOL'] == 'HTTP/1.1'\n"
                 "assert env['SERVER_NAME'] == '127.0.0.1' and env['SERVER_PORT'] == '8000'\n"
                 "assert env['REMOTE_ADDR'] == '10.0.0.1' and env['REMOTE_PORT'] == '4242'\n"
                 "assert env['HTTP_HOST'] == 'example.com'\n"
                 "assert env['HTTP_COOKIE'] == 'a=1; b=2'\n"
                 "assert env['HTTP_X_DUP'] == '1, 2'\n"
                 "assert env['HTTP_X_LATIN'] == 'caf\\xe9'\n"
                 "assert env['HTTP_' + 'A' * 400] == 'long'\n"
                 "assert env['CONTENT_TYPE'] == 'text/plain'\n"
                 "assert env['CONTENT_LENGTH'] == '5'\n"
                 "assert not [k for k in env if k.startswith('HTTP_CONTENT')]\n"
                 "assert env['wsgi.version'] == (1, 0) and env['wsgi.url_scheme'] == 'http'\n"
                 "assert env['wsgi.input'] is inp and env['wsgi.input_terminated'] is True\n"
                 "assert env['wsgi.multithread'] is False and env['wsgi.run_once'] is False\n"
                 "assert env['SERVER_SOFTWARE'].startswith('wsgihost/')\n"
                 "assert all(type(k) is str for k in env)\n"
                 "assert all(type(env[k]) is str for k in env if k.isupper())\n"
                 "assert env['wsgi.input'].read() == b'hello'\n"
                 "ok = True\n",
                 2, names, objs);
    Py_DECREF(env);

    /* No body: no CONTENT_LENGTH; a second build does not see the first one's keys. */
    req.has_body = false;
    req.header_count = 1;
    env = wh_environ_build(&req, input);
    assert_non_null(env);
    objs[0] = env;
    check_python("assert 'CONTENT_LENGTH' not in env and 'HTTP_COOKIE' not in env\n"
                 "ok = True\n",
                 2, names, objs);
    Py_DECREF(env);
    wh_input_detach(input);
    Py_DECREF(input);
}

static void test_errors(void **state)
{
    (void)state;
    char path[] = "/tmp/test_pyglue_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(wh_log_open(path, NULL, WH_LOG_INFO), 0);
    PyObject *errors = wh_errors_new();
    assert_non_null(errors);
    const char *names[] = {"err"};
    check_python("err.write('one \\udcff\\n')\n"
                 "err.writelines(['two\\n', 'three\\n'])\n"
                 "err.flush()\n"
                 "try:\n    err.write(b'bytes')\nexcept TypeError:\n    ok = True\n",
                 1, names, &errors);
    Py_DECREF(errors);
    PyErr_SetString(PyExc_KeyError, "logged");
    wh_errors_log_exception("while testing %d", 42);
    assert_null(PyErr_Occurred());
    wh_log_close();

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    assert_non_null(strstr(text, "one \\udcff\ntwo\nthree\n"));
    assert_non_null(strstr(text, "while testing 42"));
    assert_non_null(strstr(text, "KeyError: 'logged'"));
}

static void test_filewrapper(void **state)
{
    (void)state;
    PyObject *fw = wh_filewrapper_type();
    const char *names[] = {"fw"};
    check_python("import io\n"
                 "class F(io.BytesIO):\n"
                 "    closed_by_wrapper = False\n"
                 "    def close(self):\n"
                 "        F.closed_by_wrapper = True\n"
                 "        super().close()\n"
                 "w = fw(F(b'x' * 25), 10)\n"
                 "assert [len(b) for b in w] == [10, 10, 5]\n"
                 "w.close()\n"
                 "assert F.closed_by_wrapper\n"
                 "assert list(fw(io.BytesIO(b'abc'))) == [b'abc']\n"
                 "try:\n    fw(io.BytesIO(), 0)\nexcept ValueError:\n    ok = True\n",
                 1, names, &fw);
}

static int setup(void **state)
{
    (void)state;
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
#ifdef WSGIHOST_PYTHON_EXECUTABLE
    /* Find the stdlib of the Python we link, not of whatever python3 is first on PATH. */
    PyStatus st =
        PyConfig_SetBytesString(&config, &config.program_name, WSGIHOST_PYTHON_EXECUTABLE);
    if (PyStatus_Exception(st)) {
        PyConfig_Clear(&config);
        return -1;
    }
#endif
    PyStatus st2 = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st2))
        return -1;
    if (wh_errors_init() < 0 || wh_input_init() < 0 || wh_filewrapper_init() < 0 ||
        wh_environ_init(false, false) < 0) {
        PyErr_Print();
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wh_environ_fini();
    wh_errors_fini();
    return Py_FinalizeEx() == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_memory),  cmocka_unit_test(test_input_spooled),
        cmocka_unit_test(test_input_no_body), cmocka_unit_test(test_environ),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_filewrapper),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
