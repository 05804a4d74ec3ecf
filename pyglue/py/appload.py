"""--app MODULE[:CALLABLE]: finding the WSGI callable (pyglue/interp.c calls load).

As gunicorn does (gunicorn.util.import_app): CALLABLE is a name, a dotted attribute path, or a
call of one with literal arguments (an application factory: create_app() or
create_app('production')), which is called once. Errors say what went wrong: a module that is
not found gets the --app/--chdir/--pythonpath hint, a module that raises gets its traceback
(it was found), and Django without settings gets the DJANGO_SETTINGS_MODULE advice.
"""

import ast
import importlib
import traceback

DEFAULT_CALLABLE = "application"


class AppError(Exception):
    """The app cannot be loaded: the message says why (any traceback is already printed)."""


def _target(spec, expression):
    """(dotted name, args, kwargs or None when it is not a call) from CALLABLE."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise AppError("invalid --app '%s': '%s' is not a name or a call" % (spec, expression)) \
            from None
    args = kwargs = None
    if isinstance(node, ast.Call):
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        except ValueError:
            raise AppError("invalid --app '%s': a factory takes literal arguments only "
                           "(strings, numbers, ...)" % spec) from None
        if any(k is None for k in kwargs):
            raise AppError("invalid --app '%s': no **kwargs in a factory call" % spec)
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise AppError("invalid --app '%s': '%s' is not a name or a call" % (spec, expression))
    parts.append(node.id)
    return ".".join(reversed(parts)), args, kwargs


def _import(spec, module_name):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise AppError("cannot import module '%s': no module named '%s'; check --app, "
                           "--chdir and --pythonpath" % (module_name, missing)) from None
        traceback.print_exc()
        raise AppError("module '%s' was found, but importing it failed: %s (traceback above)"
                       % (module_name, e)) from None
    except Exception as e:
        traceback.print_exc()
        if type(e).__name__ == "ImproperlyConfigured" and "DJANGO_SETTINGS_MODULE" in str(e):
            raise AppError("module '%s' needs Django's settings: set DJANGO_SETTINGS_MODULE "
                           "(for example -e DJANGO_SETTINGS_MODULE=mysite.settings)"
                           % module_name) from None
        raise AppError("module '%s' raised %s while importing (traceback above)"
                       % (module_name, type(e).__name__)) from None


def load(spec):
    module_name, _, expression = spec.partition(":")
    expression = expression.strip() or DEFAULT_CALLABLE
    if not module_name:
        raise AppError("invalid --app '%s': expected MODULE[:CALLABLE]" % spec)
    name, args, kwargs = _target(spec, expression)
    obj = _import(spec, module_name)
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppError("module '%s' has no attribute '%s' (from --app '%s')"
                           % (module_name, name, spec)) from None
    if args is not None:
        if not callable(obj):
            raise AppError("'%s' in module '%s' is not callable (it is a %s)"
                           % (name, module_name, type(obj).__name__))
        try:
            obj = obj(*args, **kwargs)
        except Exception:
            traceback.print_exc()
            raise AppError("the application factory %s in module '%s' raised (traceback above)"
                           % (expression, module_name)) from None
        name = expression
    if not callable(obj):
        raise AppError("'%s' in module '%s' is not callable (it is a %s)"
                       % (name, module_name, type(obj).__name__))
    return obj
