"""Helpers shared by the Python end-to-end suites: model checks, error checks, the CLI wrapper."""

import io
import json
import os
import re
import secrets
import subprocess
import tarfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.input_file import InputFile

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




# --- deployments and executions -------------------------------------------------------------

DEPLOYMENT_FIELDS = {
    "$id", "$createdAt", "$updatedAt", "resourceId", "resourceType", "entrypoint", "size",
    "buildId", "activate", "status", "buildStdout", "buildStderr",
}
# 1.1 adds buildTime; chunksTotal/chunksUploaded are read by the SDKs' progress callbacks.
DEPLOYMENT_OPTIONAL_FIELDS = {"buildTime", "chunksTotal", "chunksUploaded"}
EXECUTION_FIELDS = {
    "$id", "$createdAt", "$updatedAt", "$permissions", "functionId", "trigger", "status",
    "statusCode", "response", "stdout", "stderr", "duration",
}
BUILD_STATUSES = {"processing", "building", "ready", "failed"}
EXECUTION_STATUSES = {"waiting", "processing", "completed", "failed"}
RUNTIME_NAMES = {NODE_RUNTIME: ("Node.js", "20.0"), PYTHON_RUNTIME: ("Python", "3.11")}

# The test functions' sources (tests/e2e/functions/<lang>/), packed into archives at test time.
FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
NODE_ENTRYPOINT = "index.js"
PYTHON_ENTRYPOINT = "main.py"


def function_files(lang, *, package_json=True, requirements=None, extra=None):
    """The files of the `lang` ("node" or "python") test function, as {archive name: bytes}."""
    folder = FUNCTIONS_DIR / lang
    files = {}
    for path in sorted(folder.iterdir()):
        if path.name == "package.json" and not package_json:
            continue
        files[path.name] = path.read_bytes()
    if requirements is not None:
        files["requirements.txt"] = requirements.encode()
    files.update(extra or {})
    return files


def make_targz(files):
    """A tar.gz (bytes) holding `files` ({name: bytes or str}) at its top level."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            if isinstance(data, str):
                data = data.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_targz(path, files):
    data = make_targz(files)
    Path(path).write_bytes(data)
    return path


def assert_deployment_model(dep):
    keys = set(dep.keys())
    assert DEPLOYMENT_FIELDS <= keys, f"deployment fields missing: {sorted(DEPLOYMENT_FIELDS - keys)}"
    extra = keys - DEPLOYMENT_FIELDS - DEPLOYMENT_OPTIONAL_FIELDS
    assert not extra, f"unexpected deployment fields: {sorted(extra)}"
    assert GENERATED_ID_RE.match(dep["$id"]), f"deployment id {dep['$id']!r}"
    parse_datetime(dep["$createdAt"])
    parse_datetime(dep["$updatedAt"])
    assert dep["resourceType"] == "functions"
    for field in ("resourceId", "entrypoint", "buildId", "buildStdout", "buildStderr"):
        assert isinstance(dep[field], str), field
    assert isinstance(dep["size"], int) and not isinstance(dep["size"], bool)
    assert isinstance(dep["activate"], bool)
    assert dep["status"] in BUILD_STATUSES, f"status {dep['status']!r}"
    if "buildTime" in dep:
        assert isinstance(dep["buildTime"], int) and dep["buildTime"] >= 0


def assert_execution_model(ex):
    assert set(ex.keys()) == EXECUTION_FIELDS, f"execution fields: {sorted(ex.keys())}"
    assert GENERATED_ID_RE.match(ex["$id"]), f"execution id {ex['$id']!r}"
    parse_datetime(ex["$createdAt"])
    parse_datetime(ex["$updatedAt"])
    assert isinstance(ex["$permissions"], list)
    assert ex["trigger"] in {"http", "schedule", "event"}
    assert ex["status"] in EXECUTION_STATUSES, f"status {ex['status']!r}"
    assert isinstance(ex["statusCode"], int) and not isinstance(ex["statusCode"], bool)
    for field in ("functionId", "response", "stdout", "stderr"):
        assert isinstance(ex[field], str), field
    assert isinstance(ex["duration"], (int, float)) and not isinstance(ex["duration"], bool)
    assert ex["duration"] >= 0


def wait_for_build(functions, function_id, deployment_id, timeout=30.0):
    """Poll the deployment until its build is `ready` or `failed` (bounded); return it."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        dep = functions.get_deployment(function_id, deployment_id)
        assert dep["status"] in BUILD_STATUSES, f"unknown build status {dep['status']!r}"
        if not seen or seen[-1] != dep["status"]:
            seen.append(dep["status"])
        if dep["status"] in ("ready", "failed"):
            return dep
        if time.monotonic() > deadline:
            raise AssertionError(
                f"deployment {deployment_id} not built within {timeout} s (statuses seen: {seen}): {dep}"
            )
        time.sleep(0.1)


def wait_for_execution(functions, function_id, execution_id, timeout=30.0):
    """Poll the execution until it is `completed` or `failed` (bounded); return it."""
    deadline = time.monotonic() + timeout
    while True:
        ex = functions.get_execution(function_id, execution_id)
        assert ex["status"] in EXECUTION_STATUSES, f"unknown execution status {ex['status']!r}"
        if ex["status"] in ("completed", "failed"):
            return ex
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {execution_id} not finished within {timeout} s: {ex}")
        time.sleep(0.1)


def deploy(functions, function_id, entrypoint, archive_path, activate, timeout=60.0):
    """Upload an archive through the SDK, wait for its build; returns (upload response, built)."""
    created = functions.create_deployment(function_id, entrypoint, InputFile.from_path(str(archive_path)), activate)
    assert last_status() == 202, f"create_deployment answered HTTP {last_status()}"
    built = wait_for_build(functions, function_id, created["$id"], timeout=timeout)
    return created, built


def response_json(execution):
    """The execution's `response`, which a res.json() answer carries as a JSON-encoded string."""
    assert execution["response"], f"empty response: {execution}"
    return json.loads(execution["response"])
