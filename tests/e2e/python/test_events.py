"""Events through the public API with the official SDK: a function subscribed to an event runs
with trigger `event`, APPWRITE_FUNCTION_EVENT and APPWRITE_FUNCTION_EVENT_DATA; an event
function's own executions do not trigger it again."""

import json
import time

import pytest
from appwrite.query import Query

from support import NODE_ENTRYPOINT, NODE_RUNTIME, deploy, function_files, response_json, uid, write_targz


def event_runs(functions, function_id, expected, timeout=30.0):
    """Waits until `expected` finished executions with trigger `event` exist; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        page = functions.list_executions(function_id, [Query.equal("trigger", ["event"]), Query.limit(100)])
        done = [ex for ex in page["executions"] if ex["status"] in ("completed", "failed")]
        if len(done) >= expected or time.monotonic() > deadline:
            return done
        time.sleep(0.1)


@pytest.fixture(scope="module")
def listener(functions, make_module_function, archive_dir):
    """A Node function listening for every function's creation and every execution's end."""
    fn = make_module_function(
        name=f"listener {uid()}",
        execute=["any"],
        events=["functions.*.create", "functions.*.executions.*.update"],
    )
    archive = write_targz(archive_dir / "listener.tar.gz", function_files("node", package_json=False))
    _, built = deploy(functions, fn["$id"], NODE_ENTRYPOINT, archive, True)
    assert built["status"] == "ready", built["buildStderr"]
    return fn


def test_a_function_runs_when_another_is_created(functions, listener, make_function):
    before = len(event_runs(functions, listener["$id"], 0, timeout=0))
    newcomer = make_function(name=f"newcomer {uid()}")
    runs = event_runs(functions, listener["$id"], before + 1)
    mine = [ex for ex in runs if f"functions.{newcomer['$id']}.create" in ex["response"]]
    assert len(mine) == 1, runs
    run = mine[0]
    assert run["status"] == "completed", run
    assert run["trigger"] == "event"
    body = response_json(run)
    assert body["variables"]["APPWRITE_FUNCTION_TRIGGER"] == "event"
    assert body["variables"]["APPWRITE_FUNCTION_EVENT"] == f"functions.{newcomer['$id']}.create"
    data = json.loads(body["variables"]["APPWRITE_FUNCTION_EVENT_DATA"])
    assert data["$id"] == newcomer["$id"]
    assert data["name"] == newcomer["name"]
    assert data["runtime"] == NODE_RUNTIME
    assert body["variables"]["APPWRITE_FUNCTION_DATA"] == ""


def test_event_runs_do_not_trigger_themselves(functions, listener):
    """An async run of the listener ends (an update event it listens for): that starts one
    event run, whose own end announces nothing, so it stops there."""
    before = len(event_runs(functions, listener["$id"], 0, timeout=0))
    queued = functions.create_execution(listener["$id"], data="hello", xasync=True)
    runs = event_runs(functions, listener["$id"], before + 1)
    mine = [ex for ex in runs if f"executions.{queued['$id']}.update" in ex["response"]]
    assert len(mine) == 1, runs
    time.sleep(1.0)  # a loop would show up here as event runs about event runs
    runs = event_runs(functions, listener["$id"], 0, timeout=0)
    event_run_ids = {ex["$id"] for ex in runs}
    about_event_runs = [
        ex for ex in runs
        if any(f"executions.{run_id}." in ex["response"] for run_id in event_run_ids)
    ]
    assert not about_event_runs, about_event_runs
