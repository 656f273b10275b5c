# functiond's Python runtime shim (v2 contract).
#
# Started by the executor as `python3 -I -B shim.py <socket> <code-dir> <entrypoint>`. It
# loads the user's entrypoint once (it must define `main(req, res)`), connects to the
# executor's unix socket (connecting is the "ready" signal), then serves invocations one at
# a time. Frames in both directions are a 4-byte big-endian length followed by that many
# bytes of UTF-8 JSON.
#
#   request:  {"variables": {..}, "payload": "..", "headers": {..}}
#   response: {"statusCode": 200, "response": "..", "stdout": "..", "stderr": ".."}
#
# `main` is synchronous: when it returns, the call is answered with what res.send/res.json
# recorded (an empty 200 if neither was called); its return value is ignored.

import importlib.util
import io
import json
import os
import socket
import struct
import sys
import traceback

# What one stream may hold per call; the executor cuts to the exact byte limit.
KEEP = 1000000
# A request is small (payload <= 8192 chars plus variables); anything far larger is a bug.
MAX_FRAME = 64 * 1024 * 1024


class Log(io.TextIOBase):
    """A per-call stand-in for sys.stdout / sys.stderr that keeps at most KEEP characters."""

    def __init__(self):
        super().__init__()
        self.parts = []
        self.size = 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        if self.size < KEEP:
            self.parts.append(text[: KEEP - self.size])
            self.size += len(text)
        return len(text)

    def text(self):
        return well_formed("".join(self.parts).rstrip("\n"))


def well_formed(text):
    # Lone surrogates would make the JSON frame invalid UTF-8 for the executor.
    return text.encode("utf-8", "replace").decode("utf-8")


class Request:
    def __init__(self, frame):
        self.variables = frame.get("variables") or {}
        payload = frame.get("payload")
        self.payload = payload if isinstance(payload, str) else ""
        self.headers = frame.get("headers") or {}


class Response:
    def __init__(self):
        self.answered = False
        self.status = 200
        self.body = ""

    def send(self, text, status=200):
        if self.answered:
            return
        self.answered = True
        self.status = status
        if text is None:
            self.body = ""
        elif isinstance(text, (bytes, bytearray)):
            self.body = bytes(text).decode("utf-8", "replace")
        else:
            self.body = str(text)

    def json(self, value, status=200):
        self.send(json.dumps(value, ensure_ascii=False, separators=(",", ":")), status)


def load(code_dir, entrypoint):
    # The user's own modules sit beside the entrypoint; `pip install --target` put the
    # dependencies under .functiond/python at build time.
    file = os.path.join(code_dir, entrypoint)
    for folder in (os.path.join(code_dir, ".functiond", "python"), code_dir, os.path.dirname(file)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(file))[0]
    if not name.isidentifier() or name in sys.modules:
        name = "functiond_entrypoint"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError('Cannot load the entrypoint "%s".' % entrypoint)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    handler = getattr(module, "main", None)
    if not callable(handler):
        raise AttributeError('The entrypoint "%s" must define main(req, res).' % entrypoint)
    return handler


# Variables that change with every call. They are in the environment only while the call
# runs, so one caller's data or JWT never lingers for the next caller.
PER_CALL = (
    "APPWRITE_FUNCTION_TRIGGER",
    "APPWRITE_FUNCTION_EVENT",
    "APPWRITE_FUNCTION_EVENT_DATA",
    "APPWRITE_FUNCTION_DATA",
    "APPWRITE_FUNCTION_USER_ID",
    "APPWRITE_FUNCTION_JWT",
)


def invoke(handler, frame):
    stdout, stderr = Log(), Log()
    req, res = Request(frame), Response()
    real_stdout, real_stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    for name in PER_CALL:
        os.environ[name] = str(req.variables.get(name, ""))
    try:
        handler(req, res)
        status, body = res.status, res.body
    except BaseException as error:  # noqa: BLE001 - the user's error becomes a 500
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        stderr.write(user_traceback(error))
        status, body = 500, ""
    finally:
        sys.stdout, sys.stderr = real_stdout, real_stderr
        for name in PER_CALL:
            os.environ.pop(name, None)
    return {
        "statusCode": status,
        "response": well_formed(body)[:KEEP],
        "stdout": stdout.text(),
        "stderr": stderr.text(),
    }


def user_traceback(error):
    """The traceback from the first frame that is the user's: the shim's own frames and
    importlib's are noise to the person reading it."""
    tb = error.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name != __file__ and not name.startswith("<frozen"):
            break
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def receive(conn, size):
    chunks = []
    while size > 0:
        chunk = conn.recv(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def serve(handler, socket_path):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(socket_path)
    while True:
        head = receive(conn, 4)
        if head is None:
            return  # the executor hung up: the instance is done
        (length,) = struct.unpack(">I", head)
        if length > MAX_FRAME:
            sys.stderr.write("functiond shim: refusing a %d-byte frame\n" % length)
            sys.exit(70)
        body = receive(conn, length)
        if body is None:
            return
        answer = invoke(handler, json.loads(body.decode("utf-8")))
        try:
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError):
            # e.g. a status that is not a number: let the executor judge a plain form of it.
            answer["statusCode"] = str(answer["statusCode"])
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        conn.sendall(struct.pack(">I", len(data)) + data)


def run():
    socket_path, code_dir, entrypoint = sys.argv[1:4]
    try:
        handler = load(code_dir, entrypoint)
    except BaseException as error:  # noqa: BLE001 - any failure to load is reported the same way
        sys.stderr.write(user_traceback(error))
        sys.stderr.flush()
        sys.exit(1)
    serve(handler, socket_path)


if __name__ == "__main__":
    run()
