"""A server killed with SIGKILL while asynchronous executions (and a build) are queued resumes
them on restart.

Unlike the other tests this one starts its own functiond (the binary run.sh exports as
FUNCTIOND_BIN) on a free port with a fresh data dir, so it can kill it.
"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from appwrite.client import Client
from appwrite.input_file import InputFile
from appwrite.query import Query
from appwrite.services.functions import Functions

from support import (
    NODE_ENTRYPOINT,
    NODE_RUNTIME,
    deploy,
    function_files,
    response_json,
    uid,
    wait_for_build,
    write_targz,
)

EXECUTIONS = 100
RESUME_TIMEOUT = 120.0
REPO_ROOT = Path(__file__).resolve().parents[3]


def server_binary():
    for name in ("FUNCTIOND_BIN", "FUNCTIONIND_BIN"):
        if os.environ.get(name):
            return os.environ[name]
    default = REPO_ROOT / "target" / "debug" / "functiond"
    if default.exists():
        return str(default)
    pytest.fail("no server binary: set FUNCTIOND_BIN (tests/e2e/run.sh does)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One functiond process on a fixed port and data dir; can be killed and started again."""

    def __init__(self, binary, data_dir, port, log_path):
        self.binary = binary
        self.data_dir = data_dir
        self.port = port
        self.log_path = log_path
        self.proc = None
        self.endpoint = f"http://127.0.0.1:{port}/v1"

    def start(self, timeout=20.0):
        # no FUNCTIOND_* from the caller's environment (run.sh exports the shared server's)
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("FUNCTIOND_")}
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir)],
            stdout=log, stderr=subprocess.STDOUT, env=child_env,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"functiond exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.endpoint}/health/version", timeout=1).ok and self.bootstrap_path().exists():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"functiond not ready within {timeout} s:\n{self.log()}")

    def bootstrap_path(self):
        return Path(self.data_dir) / "bootstrap.json"

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log(self):
        try:
            return Path(self.log_path).read_text(errors="replace")[-20000:]
        except OSError:
            return ""


@pytest.fixture
def own_server(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(server_binary(), data_dir, free_port(), tmp_path / "server.log")
    server.start()
    yield server
    server.stop()
    assert_no_processes_using(data_dir, "after the server stopped")


def processes_using(path):
    """(pid, ppid, command line) of the processes whose command line mentions `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if str(path) in cmdline:
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            found.append((int(entry.name), ppid, cmdline))
    return found


def assert_no_processes_using(path, when, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        left = processes_using(path)
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"processes left {when}: {left}")
        time.sleep(0.1)


def functions_of(server):
    boot = json.loads(server.bootstrap_path().read_text())
    client = Client()
    client.set_endpoint(server.endpoint)
    client.set_project(boot["project"])
    client.set_key(boot["key"])
    return Functions(client)


def statuses(functions, fn_id):
    page = functions.list_executions(fn_id, [Query.limit(EXECUTIONS)])
    return {ex["$id"]: ex for ex in page["executions"]}


def test_sigkill_with_queued_executions_then_restart(own_server, tmp_path, capsys):
    server = own_server

    def report(line):
        with capsys.disabled():  # shown in run.sh's quiet pytest output too
            print(f"\n[crash] {line}", end="", flush=True)

    functions = functions_of(server)
    fn = functions.create("unique()", f"crash {uid()}", [], NODE_RUNTIME)
    archive = write_targz(tmp_path / "crash.tar.gz", function_files("node", package_json=False))
    _, built = deploy(functions, fn["$id"], NODE_ENTRYPOINT, archive, True)
    assert built["status"] == "ready", built["buildStderr"]
    # a second function whose deployment (with a package.json: npm install) is uploaded just
    # before the kill, so its build job is queued or running when the server dies
    late_fn = functions.create("unique()", f"crash build {uid()}", [], NODE_RUNTIME)
    late_archive = write_targz(tmp_path / "late.tar.gz", function_files("node"))

    # 100 async executions of a handler that takes ~150 ms
    started = time.monotonic()
    ids = []
    for _ in range(EXECUTIONS):
        accepted = functions.create_execution(fn["$id"], data="slow", xasync=True)
        assert accepted["status"] == "waiting", accepted
        ids.append(accepted["$id"])
    accepted_in = time.monotonic() - started

    before = statuses(functions, fn["$id"])
    finished_before = sum(1 for ex in before.values() if ex["status"] in ("completed", "failed"))
    running_before = sum(1 for ex in before.values() if ex["status"] == "processing")
    late = functions.create_deployment(late_fn["$id"], NODE_ENTRYPOINT, InputFile.from_path(str(late_archive)), True)
    late_status = functions.get_deployment(late_fn["$id"], late["$id"])["status"]
    server.kill9()
    report(
        f"{EXECUTIONS} accepted in {accepted_in:.2f} s; at the SIGKILL: {finished_before} finished, "
        f"{running_before} processing, {EXECUTIONS - finished_before - running_before} waiting; "
        f"the late deployment's build: {late_status}"
    )
    # the function instances of the killed server do not outlive it
    assert_no_processes_using(server.data_dir, "after the SIGKILL")
    assert finished_before < EXECUTIONS, "everything finished before the kill: the test proves nothing"

    server.start()
    restarted = time.monotonic()
    functions = functions_of(server)
    deadline = restarted + RESUME_TIMEOUT
    while True:
        current = statuses(functions, fn["$id"])
        pending = [ex_id for ex_id in ids if current.get(ex_id, {}).get("status") not in ("completed", "failed")]
        if not pending:
            break
        if time.monotonic() > deadline:
            stuck = {ex_id: current.get(ex_id, {}).get("status") for ex_id in pending[:10]}
            raise AssertionError(
                f"{len(pending)} executions still unfinished {RESUME_TIMEOUT} s after the restart, e.g. {stuck}\n"
                f"server log:\n{server.log()}"
            )
        time.sleep(0.25)
    resumed_in = time.monotonic() - restarted

    assert set(current) == set(ids), "the list holds exactly the 100 executions"
    completed = [current[ex_id] for ex_id in ids if current[ex_id]["status"] == "completed"]
    failed = [current[ex_id] for ex_id in ids if current[ex_id]["status"] == "failed"]
    report(f"all {EXECUTIONS} finished {resumed_in:.2f} s after the restart: "
           f"{len(completed)} completed, {len(failed)} failed\n")
    for ex in failed[:3]:
        report(f"failed {ex['$id']}: statusCode {ex['statusCode']} stderr {ex['stderr'][:200]!r}\n")
    for ex in completed:
        assert ex["statusCode"] == 200, ex
        assert response_json(ex)["payload"] == "slow"
        assert ex["stdout"].splitlines() == ["node handler got slow"]
    for ex in failed:
        assert ex["statusCode"] >= 500, ex
        assert ex["stderr"] != "", ex
    # the ones that had finished before the kill were not run again
    for ex_id, ex in before.items():
        if ex["status"] in ("completed", "failed"):
            assert current[ex_id] == ex, f"{ex_id} changed after the restart"

    # the build that was pending at the kill finished too, and activated its deployment
    late_built = wait_for_build(functions, late_fn["$id"], late["$id"], timeout=60)
    assert late_built["status"] == "ready", late_built["buildStderr"]
    assert functions.get(late_fn["$id"])["deployment"] == late["$id"]
    late_run = functions.create_execution(late_fn["$id"], data="late")
    assert late_run["status"] == "completed", late_run
    assert response_json(late_run)["packageName"] == "functiond-e2e-node-function"

    # and the restarted server still takes new work
    after = functions.create_execution(fn["$id"], data="after the crash")
    assert after["status"] == "completed", after
    assert response_json(after)["payload"] == "after the crash"
