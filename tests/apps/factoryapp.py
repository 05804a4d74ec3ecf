"""Application factories, as Flask and Pyramid apps are written: `factoryapp:create_app()`,
`factoryapp:create_app('staging')`, `factoryapp:Factories.make(greeting='hi')`."""


def create_app(name="default", greeting="hello"):
    def application(environ, start_response):
        body = ("%s from %s" % (greeting, name)).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return application


class Factories:
    make = staticmethod(create_app)


not_a_factory = 42


def broken_factory():
    raise RuntimeError("broken_factory fails on purpose")
