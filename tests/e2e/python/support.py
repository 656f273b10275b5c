"""Helpers shared by the Python end-to-end suites: model checks, error checks, the CLI wrapper."""

import os
import re
import secrets
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import requests
from appwrite.client import Client
from appwrite.exception import AppwriteException

ALL_SCOPES = ["functions.read", "functions.write", "execution.read", "execution.write"]

FUNCTION_FIELDS = {
    "$id", "$createdAt", "$updatedAt", "execute", "name", "enabled", "runtime",
    "deployment", "vars", "events", "schedule", "scheduleNext", "schedulePrevious", "timeout",
}
VARIABLE_FIELDS = {"$id", "$createdAt", "$updatedAt", "key", "value", "functionId"}
RUNTIME_FIELDS = {"$id", "name", "version", "base", "image", "logo", "supports"}

DATETIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
GENERATED_ID_RE = re.compile(r"^[0-9a-f]{20}$")

NODE_RUNTIME = "node-20.0"
PYTHON_RUNTIME = "python-3.11"


class _ResponseRecorder:
    """Keeps the last HTTP response the SDK received (the SDK returns bodies only)."""

    def __init__(self):
        self.last = None
        self._request = requests.request

    def __call__(self, *args, **kwargs):
        self.last = self._request(*args, **kwargs)
        return self.last


if not isinstance(requests.request, _ResponseRecorder):
    requests.request = _ResponseRecorder()
_RECORDER = requests.request


def last_status():
    """HTTP status of the last SDK call."""
    return _RECORDER.last.status_code


def assert_last(status):
    response = _RECORDER.last
    assert response.status_code == status, f"expected HTTP {status}, got {response.status_code}"
    assert response.headers.get("Content-Type"), f"HTTP {status} without a Content-Type header"
    if status == 204:
        assert response.content == b""
    else:
        assert response.headers["Content-Type"].startswith("application/json")


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through tests/e2e/run.sh")
    return value


def uid():
    """A short random token that starts with a letter (safe inside ids, names and searches)."""
    return "u" + secrets.token_hex(5)


def parse_datetime(text):
    assert DATETIME_RE.match(text), f"not an Appwrite datetime: {text!r}"
    return datetime.fromisoformat(text)


def assert_recent(text, slack=timedelta(minutes=5)):
    moment = parse_datetime(text)
    now = datetime.now(timezone.utc)
    assert now - slack <= moment <= now + slack, f"{text} is not close to now ({now.isoformat()})"
    return moment


def assert_function_model(fn):
    assert set(fn.keys()) == FUNCTION_FIELDS, f"function fields: {sorted(fn.keys())}"
    assert isinstance(fn["$id"], str) and fn["$id"]
    parse_datetime(fn["$createdAt"])
    parse_datetime(fn["$updatedAt"])
    assert isinstance(fn["execute"], list)
    assert isinstance(fn["name"], str)
    assert isinstance(fn["enabled"], bool)
    assert isinstance(fn["runtime"], str)
    assert fn["deployment"] == ""
    assert isinstance(fn["vars"], list)
    for var in fn["vars"]:
        assert_variable_model(var)
        assert var["functionId"] == fn["$id"]
    assert isinstance(fn["events"], list)
    assert isinstance(fn["schedule"], str)
    for field in ("scheduleNext", "schedulePrevious"):
        if fn[field] != "":
            parse_datetime(fn[field])
    assert isinstance(fn["timeout"], int) and not isinstance(fn["timeout"], bool)


def assert_variable_model(var):
    assert set(var.keys()) == VARIABLE_FIELDS, f"variable fields: {sorted(var.keys())}"
    assert isinstance(var["$id"], str) and var["$id"]
    parse_datetime(var["$createdAt"])
    parse_datetime(var["$updatedAt"])
    for field in ("key", "value", "functionId"):
        assert isinstance(var[field], str)


def expect_error(call, code, type_=None):
    """Run `call`, require an AppwriteException with this HTTP code (and type), return it."""
    with pytest.raises(AppwriteException) as info:
        call()
    err = info.value
    assert err.code == code, f"expected HTTP {code}, got {err.code} {err.type!r}: {err.message}"
    if type_ is not None:
        assert err.type == type_, f"expected type {type_!r}, got {err.type!r} ({err.code}): {err.message}"
    body = err.response
    assert isinstance(body, dict), f"error body is not JSON: {body!r}"
    assert {"message", "code", "type", "version"} <= set(body.keys()), f"error body: {body}"
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return err


def make_client(project=None, key=None):
    client = Client()
    client.set_endpoint(env("FUNCTIOND_ENDPOINT"))
    if project is not None:
        client.set_project(project)
    if key is not None:
        client.set_key(key)
    return client


class Cli:
    """Runs the functiond binary's admin subcommands against the running server's data dir."""

    def __init__(self, binary, data_dir):
        self.binary = binary
        self.data_dir = data_dir

    def run(self, *args):
        proc = subprocess.run(
            [self.binary, *args, "--data-dir", self.data_dir],
            capture_output=True, text=True, timeout=60,
        )
        if proc.returncode != 0:
            raise AssertionError(
                f"functiond {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc.stdout

    def create_project(self, project_id=None, name=None):
        project_id = project_id or ("pyproj" + secrets.token_hex(5))
        args = ["project", "create", project_id]
        if name:
            args += ["--name", name]
        self.run(*args)
        return project_id

    def create_key(self, project, scopes, name=None):
        args = ["key", "create", "--project", project, "--scopes", ",".join(scopes)]
        if name:
            args += ["--name", name]
        lines = [line.strip() for line in self.run(*args).splitlines() if line.strip()]
        assert lines, "functiond key create printed nothing"
        return lines[-1]


