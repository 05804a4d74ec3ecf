"""A small Flask app (Debian's python3-flask) served by tests/integration/test_flask.py."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def index():
    return "Hello from Flask\n"


@app.get("/user/<name>")
def user(name):
    return jsonify(name=name, args=request.args.to_dict())


@app.post("/json")
def echo_json():
    data = request.get_json()
    # werkzeug reports content_length None for a chunked request and reads to the end of
    # wsgi.input instead; Django and others read CONTENT_LENGTH, so report that too.
    return jsonify(received=data, content_length=request.environ.get("CONTENT_LENGTH"))


@app.post("/form")
def form():
    return jsonify(form=request.form.to_dict())


@app.get("/fail")
def fail():
    raise RuntimeError("flask view failed on purpose")
