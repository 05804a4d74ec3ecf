/* gunicorn configuration files (see pyglue/gunicornconf.h). The reading and the hook
 * objects are Python (SOURCE below, run once in the master's interpreter); this file starts
 * the interpreter, applies what the file set as wsgihost options and calls the hooks. */
#include "pyglue/gunicornconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyglue/compat.h"
#include "server/core/errmsg.h"
#include "server/core/log.h"

static const char SOURCE[] =
    "# wsgihost: reading a gunicorn configuration file (pyglue/gunicornconf.c runs this).\n"
    "import os\n"
    "import runpy\n"
    "import sys\n"
    "import traceback\n"
    "import types\n"
    "\n"
    "# Every gunicorn setting (20.1 to 23), so a name the file assigns is either applied, warned\n"
    "# about, or (not a setting at all: an import, a helper) ignored as gunicorn ignores it.\n"
    "KNOWN = set(\"\"\"\n"
    "config wsgi_app bind backlog workers worker_class threads worker_connections max_requests\n"
    "max_requests_jitter timeout graceful_timeout keepalive limit_request_line "
    "limit_request_fields\n"
    "limit_request_field_size reload reload_engine reload_extra_files spew check_config "
    "print_config\n"
    "preload_app sendfile reuse_port chdir daemon raw_env pidfile worker_tmp_dir user group umask\n"
    "initgroups tmp_upload_dir secure_scheme_headers forwarded_allow_ips accesslog\n"
    "disable_redirect_access_to_syslog access_log_format errorlog loglevel capture_output\n"
    "logger_class logconfig logconfig_dict logconfig_json syslog_addr syslog syslog_prefix\n"
    "syslog_facility enable_stdio_inheritance statsd_host dogstatsd_tags statsd_prefix proc_name\n"
    "default_proc_name pythonpath paste on_starting on_reload when_ready pre_fork post_fork\n"
    "post_worker_init worker_int worker_abort pre_exec pre_request post_request child_exit\n"
    "worker_exit nworkers_changed on_exit ssl_context proxy_protocol proxy_allow_ips keyfile\n"
    "certfile ssl_version cert_reqs ca_certs suppress_ragged_eofs do_handshake_on_connect ciphers\n"
    "raw_paste_global_conf strip_header_spaces permit_unconventional_http_method\n"
    "permit_unconventional_http_version casefold_http_method forwarder_headers header_map\n"
    "permit_obsolete_folding tolerate_dangerous_framing\n"
    "\"\"\".split())\n"
    "\n"
    "# gunicorn setting -> wsgihost option, with how the value is written.\n"
    "OPTIONS = {\n"
    "    \"wsgi_app\": \"app\", \"bind\": \"bind\", \"backlog\": \"backlog\", \"workers\": "
    "\"workers\",\n"
    "    \"threads\": \"threads\", \"max_requests\": \"max-requests\",\n"
    "    \"max_requests_jitter\": \"max-requests-jitter\", \"timeout\": \"timeout\",\n"
    "    \"graceful_timeout\": \"graceful-timeout\", \"keepalive\": \"keep-alive\",\n"
    "    \"limit_request_line\": \"limit-request-line\", \"limit_request_fields\": "
    "\"limit-request-fields\",\n"
    "    \"limit_request_field_size\": \"limit-request-field_size\", \"reload\": \"reload\",\n"
    "    \"reload_extra_files\": \"reload-extra-file\", \"preload_app\": \"preload\", \"chdir\": "
    "\"chdir\",\n"
    "    \"pidfile\": \"pid\", \"forwarded_allow_ips\": \"forwarded-allow-ips\", \"accesslog\": "
    "\"access-logfile\",\n"
    "    \"access_log_format\": \"access-logformat\", \"errorlog\": \"error-logfile\", "
    "\"loglevel\": \"log-level\",\n"
    "    \"pythonpath\": \"pythonpath\", \"proxy_protocol\": \"proxy-protocol\",\n"
    "    \"proxy_allow_ips\": \"proxy-allow-from\",\n"
    "}\n"
    "LISTS = {\"bind\", \"reload_extra_files\"}            # one option per item\n"
    "JOINED = {\"forwarded_allow_ips\", \"proxy_allow_ips\", \"pythonpath\"}  # comma-joined\n"
    "FLAGS = {\"reload\", \"preload_app\", \"proxy_protocol\"}\n"
    "\n"
    "HOOKS = {\"on_starting\", \"on_reload\", \"when_ready\", \"pre_fork\", \"post_fork\", "
    "\"post_worker_init\",\n"
    "         \"child_exit\", \"worker_exit\", \"on_exit\"}\n"
    "\n"
    "# Settings whose usual values need nothing from wsgihost: no warning for these values.\n"
    "HARMLESS = {\n"
    "    \"worker_class\": {\"sync\", \"gthread\", \"gunicorn.workers.sync.SyncWorker\",\n"
    "                     \"gunicorn.workers.gthread.ThreadWorker\"},\n"
    "    \"sendfile\": {None, True},      # wsgihost always uses sendfile where it can\n"
    "    \"daemon\": {False},\n"
    "    \"capture_output\": {False},\n"
    "    \"enable_stdio_inheritance\": {False},\n"
    "    \"reload_engine\": {\"auto\", \"inotify\"},  # --reload uses inotify (libuv)\n"
    "    \"config\": None,                # the file itself\n"
    "    \"default_proc_name\": None,\n"
    "    \"secure_scheme_headers\": {None},\n"
    "    \"check_config\": {False}, \"print_config\": {False}, \"spew\": {False},\n"
    "}\n"
    "\n"
    "WHY = {\n"
    "    \"worker_class\": \"wsgihost has one worker model (an event loop plus Python threads, "
    "like \"\n"
    "                    \"gthread); async workers (gevent, eventlet, uvicorn) do not apply\",\n"
    "    \"keyfile\": \"TLS is terminated in front of wsgihost\", \"certfile\": \"TLS is "
    "terminated in front \"\n"
    "    \"of wsgihost\", \"ssl_version\": \"no TLS\", \"cert_reqs\": \"no TLS\", \"ca_certs\": "
    "\"no TLS\",\n"
    "    \"ciphers\": \"no TLS\", \"do_handshake_on_connect\": \"no TLS\", "
    "\"suppress_ragged_eofs\": \"no TLS\",\n"
    "    \"ssl_context\": \"no TLS\",\n"
    "    \"secure_scheme_headers\": \"the three gunicorn defaults are fixed\",\n"
    "    \"daemon\": \"run it under a supervisor (a container, systemd) instead\",\n"
    "    \"user\": \"start it as that user (USER in a Dockerfile)\", \"group\": \"start it as that "
    "group\",\n"
    "    \"pre_request\": \"per-request hooks are not supported\", \"post_request\": \"per-request "
    "hooks \"\n"
    "    \"are not supported\",\n"
    "    \"statsd_host\": \"use --metrics-bind (Prometheus)\",\n"
    "}\n"
    "\n"
    "\n"
    "def _text(value):\n"
    "    if isinstance(value, bool):\n"
    "        return \"1\" if value else \"0\"\n"
    "    return str(value)\n"
    "\n"
    "\n"
    "def load(path):\n"
    "    \"\"\"(options [(name, text)], raw_env [str], warnings [str], hooks {name: fn}).\"\"\"\n"
    "    namespace = runpy.run_path(path, run_name=\"__config__\")\n"
    "    options, raw_env, warnings, hooks = [], [], [], {}\n"
    "    for name in sorted(namespace):\n"
    "        value = namespace[name]\n"
    "        if name not in KNOWN or isinstance(value, types.ModuleType):\n"
    "            continue\n"
    "        if name in HOOKS:\n"
    "            if not callable(value):\n"
    "                raise TypeError(\"%s in %s must be a function\" % (name, path))\n"
    "            hooks[name] = value\n"
    "        elif name == \"raw_env\":\n"
    "            raw_env = [value] if isinstance(value, str) else list(value)\n"
    "            for entry in raw_env:\n"
    "                key, eq, val = str(entry).partition(\"=\")\n"
    "                if not key or not eq:\n"
    "                    raise ValueError(\"raw_env entries are KEY=VALUE, not %r\" % (entry,))\n"
    "                os.environ[key] = val  # the interpreter's view and the process's\n"
    "        elif name in OPTIONS:\n"
    "            option = OPTIONS[name]\n"
    "            if value is None:\n"
    "                continue\n"
    "            if name in LISTS:\n"
    "                for item in ([value] if isinstance(value, str) else value):\n"
    "                    options.append((option, _text(item)))\n"
    "            elif name in JOINED:\n"
    "                items = [value] if isinstance(value, str) else list(value)\n"
    "                options.append((option, \",\".join(str(i) for i in items)))\n"
    "            elif name in FLAGS:\n"
    "                options.append((option, \"1\" if value else \"0\"))\n"
    "            else:\n"
    "                options.append((option, _text(value)))\n"
    "        elif name in HARMLESS and (HARMLESS[name] is None or value in HARMLESS[name]):\n"
    "            continue\n"
    "        else:\n"
    "            why = WHY.get(name, \"no wsgihost equivalent\")\n"
    "            warnings.append(\"%s = %r in %s is not supported by wsgihost and is ignored (%s); "
    "\"\n"
    "                            \"see README, Moving from gunicorn\" % (name, value, path, why))\n"
    "    return options, raw_env, warnings, hooks\n"
    "\n"
    "\n"
    "class Log:\n"
    "    \"\"\"The `log` of gunicorn's server and worker objects: lines go to wsgihost's error "
    "log.\"\"\"\n"
    "\n"
    "    def __init__(self, emit):\n"
    "        self._emit = emit\n"
    "\n"
    "    def _log(self, level, msg, args):\n"
    "        try:\n"
    "            text = str(msg) % args if args else str(msg)\n"
    "        except (TypeError, ValueError):\n"
    "            text = \"%s %r\" % (msg, args)\n"
    "        self._emit(level, text)\n"
    "\n"
    "    def debug(self, msg, *args, **kw):\n"
    "        self._log(0, msg, args)\n"
    "\n"
    "    def info(self, msg, *args, **kw):\n"
    "        self._log(1, msg, args)\n"
    "\n"
    "    def warning(self, msg, *args, **kw):\n"
    "        self._log(2, msg, args)\n"
    "\n"
    "    warn = warning\n"
    "\n"
    "    def error(self, msg, *args, **kw):\n"
    "        self._log(3, msg, args)\n"
    "\n"
    "    def critical(self, msg, *args, **kw):\n"
    "        self._log(4, msg, args)\n"
    "\n"
    "    def exception(self, msg, *args, **kw):\n"
    "        self._log(3, str(msg) + \"\\n\" + traceback.format_exc().rstrip(), args)\n"
    "\n"
    "    def reopen_files(self):\n"
    "        pass\n"
    "\n"
    "\n"
    "class Server:\n"
    "    \"\"\"What gunicorn hooks get as `server` (the arbiter): pid, cfg, num_workers, "
    "log.\"\"\"\n"
    "\n"
    "    def __init__(self, log):\n"
    "        self.pid = os.getpid()\n"
    "        self.log = log\n"
    "        self.cfg = types.SimpleNamespace()\n"
    "        self.num_workers = 0\n"
    "        self.app = None\n"
    "        self.proc_name = \"wsgihost\"\n"
    "\n"
    "    def describe(self, settings):\n"
    "        self.cfg = types.SimpleNamespace(**settings)\n"
    "        self.num_workers = settings.get(\"workers\", 0)\n"
    "        self.pid = os.getpid()\n"
    "\n"
    "\n"
    "class Worker:\n"
    "    \"\"\"What gunicorn hooks get as `worker`: pid, ppid, age, log, cfg, alive.\"\"\"\n"
    "\n"
    "    def __init__(self, server, pid, age):\n"
    "        self.pid = pid\n"
    "        self.ppid = server.pid\n"
    "        self.age = age\n"
    "        self.log = server.log\n"
    "        self.cfg = server.cfg\n"
    "        self.alive = True\n"
    "        self.booted = pid != 0\n"
    "\n"
    "\n"
    "def call(hooks, name, args):\n"
    "    fn = hooks.get(name)\n"
    "    if fn is None:\n"
    "        return\n"
    "    try:\n"
    "        fn(*args)\n"
    "    except BaseException:  # a hook must not take the server down\n"
    "        args[0].log.error(\"the %s hook failed:\\n%s\", name, "
    "traceback.format_exc().rstrip())\n"
    "\n";

static PyObject *code_ns; /* the namespace SOURCE ran in */
static PyObject *hooks;   /* {name: function} from the file */
static PyObject *server;  /* the `server` object hooks get */
static bool active;

/* _emit(level, text): a hook's log line into wsgihost's error log. */
static PyObject *emit(PyObject *self, PyObject *args)
{
    (void)self;
    int level;
    const char *text;
    if (!PyArg_ParseTuple(args, "is", &level, &text))
        return NULL;
    if (level < WH_LOG_DEBUG)
        level = WH_LOG_DEBUG;
    if (level > WH_LOG_CRITICAL)
        level = WH_LOG_CRITICAL;
    wh_log((wh_log_level_t)level, "%s", text);
    Py_RETURN_NONE;
}

static PyMethodDef emit_def = {"_emit", emit, METH_VARARGS, "Writes a line to the error log."};

static PyObject *ns_get(const char *name)
{
    PyObject *o = PyDict_GetItemString(code_ns, name); /* borrowed */
    if (o == NULL && !PyErr_Occurred())
        PyErr_Format(PyExc_RuntimeError, "gunicornconf: %s missing", name);
    return o;
}

static int apply_options(PyObject *options, wh_config_t *cfg, const char *path, char *err,
                         size_t err_size)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(options); i++) {
        PyObject *pair = PyList_GET_ITEM(options, i);
        const char *name, *text;
        if (!PyArg_ParseTuple(pair, "ss", &name, &text)) {
            PyErr_Clear();
            return wh_errorf(err, err_size, "%s: a setting's value cannot be read as text", path);
        }
        char why[512];
        if (wh_config_apply(cfg, name, text, path, why, sizeof(why)) != 0)
            return wh_errorf(err, err_size, "%s", why);
    }
    return 0;
}

int wh_gconf_load(const char *path, const wh_py_options_t *boot, wh_config_t *cfg, char *err,
                  size_t err_size)
{
    if (wh_py_boot(boot) != 0)
        return wh_errorf(err, err_size, "cannot start Python to read %s", path);
    code_ns = PyDict_New();
    PyObject *result = NULL, *fn_emit = NULL, *log = NULL;
    if (code_ns == NULL || PyDict_SetItemString(code_ns, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto py_fail;
    PyObject *ran = PyRun_String(SOURCE, Py_file_input, code_ns, code_ns);
    if (ran == NULL)
        goto py_fail;
    Py_DECREF(ran);
    PyObject *load = ns_get("load");
    result = load ? PyObject_CallFunction(load, "s", path) : NULL;
    if (result == NULL) {
        PyErr_Print();
        return wh_errorf(err, err_size,
                         "cannot read the configuration file %s (see the traceback "
                         "above)",
                         path);
    }
    PyObject *options, *raw_env, *warnings, *found_hooks;
    if (!PyArg_ParseTuple(result, "O!O!O!O!", &PyList_Type, &options, &PyList_Type, &raw_env,
                          &PyList_Type, &warnings, &PyDict_Type, &found_hooks))
        goto py_fail;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(warnings); i++) {
        const char *w = PyUnicode_AsUTF8(PyList_GET_ITEM(warnings, i));
        if (w)
            wh_log(WH_LOG_WARNING, "%s", w);
        PyErr_Clear();
    }
    (void)raw_env; /* load() has put it in os.environ (and so in the process's environment) */
    if (apply_options(options, cfg, path, err, err_size) != 0) {
        Py_DECREF(result);
        return -1;
    }
    hooks = Py_NewRef(found_hooks);
    fn_emit = PyCFunction_New(&emit_def, NULL);
    PyObject *log_type = ns_get("Log"), *server_type = ns_get("Server");
    log = fn_emit && log_type ? PyObject_CallOneArg(log_type, fn_emit) : NULL;
    server = log && server_type ? PyObject_CallOneArg(server_type, log) : NULL;
    Py_XDECREF(fn_emit);
    Py_XDECREF(log);
    Py_DECREF(result);
    if (server == NULL)
        goto py_fail;
    active = true;
    return 0;
py_fail:
    PyErr_Print();
    Py_XDECREF(result);
    return wh_errorf(err, err_size, "cannot read the configuration file %s", path);
}

bool wh_gconf_active(void)
{
    return active;
}

static int set_item(PyObject *d, const char *key, PyObject *value)
{
    if (value == NULL)
        return -1;
    int rc = PyDict_SetItemString(d, key, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *str_or_none(const char *s)
{
    return s ? PyUnicode_FromString(s) : Py_NewRef(Py_None);
}

void wh_gconf_describe(const wh_config_t *cfg)
{
    if (!active)
        return;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *d = PyDict_New();
    PyObject *binds = PyList_New(0);
    for (size_t i = 0; binds && i < cfg->bind_count; i++) {
        PyObject *b = PyUnicode_FromString(cfg->binds[i]);
        if (b == NULL || PyList_Append(binds, b) < 0)
            Py_CLEAR(binds);
        Py_XDECREF(b);
    }
    int rc = d ? 0 : -1;
    rc = rc || set_item(d, "bind", binds) ||
         set_item(d, "workers", PyLong_FromLong(cfg->workers)) ||
         set_item(d, "threads", PyLong_FromLong(cfg->threads)) ||
         set_item(d, "timeout", PyFloat_FromDouble(cfg->timeout)) ||
         set_item(d, "graceful_timeout", PyFloat_FromDouble(cfg->graceful_timeout)) ||
         set_item(d, "keepalive", PyFloat_FromDouble(cfg->keep_alive)) ||
         set_item(d, "max_requests", PyLong_FromUnsignedLong(cfg->max_requests)) ||
         set_item(d, "max_requests_jitter", PyLong_FromUnsignedLong(cfg->max_requests_jitter)) ||
         set_item(d, "preload_app", PyBool_FromLong(cfg->preload)) ||
         set_item(d, "accesslog", str_or_none(cfg->access_logfile)) ||
         set_item(d, "errorlog", str_or_none(cfg->error_logfile ? cfg->error_logfile : "-")) ||
         set_item(d, "loglevel", str_or_none(cfg->log_level)) ||
         set_item(d, "forwarded_allow_ips", str_or_none(cfg->forwarded_allow_ips)) ||
         set_item(d, "chdir", str_or_none(cfg->chdir)) ||
         set_item(d, "pidfile", str_or_none(cfg->pidfile)) ||
         set_item(d, "wsgi_app", str_or_none(cfg->app)) ||
         set_item(d, "reload", PyBool_FromLong(cfg->reload));
    PyObject *r = rc == 0 ? PyObject_CallMethod(server, "describe", "O", d) : NULL;
    if (r == NULL)
        PyErr_Print();
    Py_XDECREF(r);
    Py_XDECREF(d);
    PyGILState_Release(gil);
}

static void call_hook(const char *name, PyObject *args)
{
    PyObject *call = ns_get("call");
    PyObject *r = call && args ? PyObject_CallFunction(call, "OsO", hooks, name, args) : NULL;
    if (r == NULL)
        PyErr_Print();
    Py_XDECREF(r);
}

void wh_gconf_server_hook(const char *name)
{
    if (!active)
        return;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (PyDict_GetItemString(hooks, name) != NULL) {
        PyObject *args = Py_BuildValue("(O)", server);
        call_hook(name, args);
        Py_XDECREF(args);
    }
    PyGILState_Release(gil);
}

void wh_gconf_worker_hook(const char *name, long pid, int age)
{
    if (!active)
        return;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (PyDict_GetItemString(hooks, name) != NULL) {
        PyObject *worker_type = ns_get("Worker");
        PyObject *worker =
            worker_type ? PyObject_CallFunction(worker_type, "Oli", server, pid, age) : NULL;
        PyObject *args = NULL;
        if (worker != NULL)
            args = strcmp(name, "post_worker_init") == 0 ? Py_BuildValue("(O)", worker)
                                                         : Py_BuildValue("(OO)", server, worker);
        call_hook(name, args);
        Py_XDECREF(args);
        Py_XDECREF(worker);
    }
    PyGILState_Release(gil);
}

int wh_gconf_finish(void)
{
    if (!active)
        return 0;
    active = false;
    if (!Py_IsInitialized())
        return 0; /* --preload: wh_py_finalize has done it */
    Py_CLEAR(server);
    Py_CLEAR(hooks);
    Py_CLEAR(code_ns);
    return Py_FinalizeEx();
}
