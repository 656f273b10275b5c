"""The Python test function of the e2e suites (v2 runtime contract: def main(req, res)).

Both suites pack this folder into a tar.gz at test time. What it does depends on `req.payload`
(the part before a first ":", so "slow:7" is "slow"):
  "throw"  raises an exception                "notfound" answers res.send(text, 404)
  "sleep"  waits 5 s before answering         "slow"     waits 150 ms before answering
  "stderr" also writes a line to sys.stderr
  anything else: answers res.json(...) with what the function received (see below).
"""

import hashlib
import os
import sys
import time

SYSTEM_KEYS = [
    "APPWRITE_FUNCTION_ID", "APPWRITE_FUNCTION_NAME", "APPWRITE_FUNCTION_DEPLOYMENT",
    "APPWRITE_FUNCTION_PROJECT_ID", "APPWRITE_FUNCTION_TRIGGER", "APPWRITE_FUNCTION_RUNTIME_NAME",
    "APPWRITE_FUNCTION_RUNTIME_VERSION", "APPWRITE_FUNCTION_EVENT", "APPWRITE_FUNCTION_EVENT_DATA",
    "APPWRITE_FUNCTION_DATA", "APPWRITE_FUNCTION_USER_ID", "APPWRITE_FUNCTION_JWT", "CUSTOM_VARIABLE",
]

HERE = os.path.dirname(os.path.abspath(__file__))


def blob_info():
    """A large random file shipped next to this one by the chunked-upload tests."""
    path = os.path.join(HERE, "blob.bin")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def six_file():
    """Where `six` was imported from (only the deployment with a requirements.txt installs it)."""
    try:
        import six
    except ImportError:
        return None
    return os.path.abspath(six.__file__)


def main(req, res):
    mode = req.payload.split(":")[0]
    print(f"python handler got {req.payload}")
    if mode == "throw":
        raise RuntimeError("python handler exploded on purpose")
    if mode == "notfound":
        return res.send("python: nothing here", 404)
    if mode == "sleep":
        time.sleep(5)
    if mode == "slow":
        time.sleep(0.15)
    if mode == "stderr":
        print("python handler wrote to stderr", file=sys.stderr)
    return res.json({
        "runtime": "python",
        "variables": req.variables,
        "env": {key: os.environ.get(key) for key in SYSTEM_KEYS},
        "payload": req.payload,
        "headers": req.headers,
        "utf8": "êä",
        "here": HERE,
        "six": six_file(),
        "blob": blob_info(),
    })
