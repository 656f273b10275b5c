"""The Python baseline for the warm-overhead figure: a plain `http.server` on loopback that runs
the same hello handler the harness deploys to functiond (bench/functions/python/main.py).

Per request it does what a function call needs at the least: read the JSON body, hand its
`data` to the handler as `req.payload`, and send what the handler sends. HTTP/1.1 keep-alive,
Nagle off and the reply written in one piece, one thread per connection.

Usage: python3 bench/plain_python.py PORT   (prints "ready" once listening)
"""

import importlib.util
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
# Leave no __pycache__ beside the handler: that directory is also what gets deployed.
sys.dont_write_bytecode = True


def load_handler():
    path = os.path.join(HERE, "functions", "python", "main.py")
    spec = importlib.util.spec_from_file_location("bench_hello", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


HANDLER = load_handler()


class Request:
    def __init__(self, payload, headers):
        self.payload = payload
        self.headers = headers
        self.variables = {}


class Response:
    def __init__(self):
        self.status = 200
        self.body = None

    def send(self, text, status=200):
        self.status = status
        self.body = str(text)
        return self

    def json(self, value, status=200):
        return self.send(json.dumps(value), status)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # Buffered: headers and body leave in one write (flushed after each request).
    wbufsize = 64 * 1024

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
            payload = body.get("data") if isinstance(body.get("data"), str) else ""
        except (ValueError, AttributeError):
            self.reply(400, "invalid JSON body")
            return
        res = Response()
        try:
            HANDLER(Request(payload, dict(self.headers)), res)
        except Exception as error:  # the handler's failure is the caller's answer
            self.reply(500, repr(error))
            return
        self.reply(res.status, res.body or "")

    def reply(self, status, text):
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python3 plain_python.py PORT")
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass


if __name__ == "__main__":
    main()
