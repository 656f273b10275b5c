"""Executions through the Python SDK 1.1.0: sync and async on both runtimes, what the function
receives, logs, status codes, thrown errors, timeouts, listing and the error cases."""

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from appwrite.query import Query

from support import (
    NODE_ENTRYPOINT,
    NODE_RUNTIME,
    PYTHON_ENTRYPOINT,
    PYTHON_RUNTIME,
    RUNTIME_NAMES,
    assert_execution_model,
    assert_last,
    assert_recent,
    deploy,
    expect_error,
    function_files,
    response_json,
    uid,
    wait_for_execution,
    write_targz,
)

LANGS = {"node": (NODE_RUNTIME, NODE_ENTRYPOINT), "python": (PYTHON_RUNTIME, PYTHON_ENTRYPOINT)}
SYSTEM_KEYS = {
    "APPWRITE_FUNCTION_ID", "APPWRITE_FUNCTION_NAME", "APPWRITE_FUNCTION_DEPLOYMENT",
    "APPWRITE_FUNCTION_PROJECT_ID", "APPWRITE_FUNCTION_TRIGGER", "APPWRITE_FUNCTION_RUNTIME_NAME",
    "APPWRITE_FUNCTION_RUNTIME_VERSION", "APPWRITE_FUNCTION_EVENT", "APPWRITE_FUNCTION_EVENT_DATA",
    "APPWRITE_FUNCTION_DATA", "APPWRITE_FUNCTION_USER_ID", "APPWRITE_FUNCTION_JWT",
}


def execution_ids(page):
    return [ex["$id"] for ex in page["executions"]]


def build_app(functions, make_function, folder, lang, *, timeout=None, requirements=None):
    """Create a function of `lang` with a CUSTOM_VARIABLE, deploy the test function (activate)."""
    runtime, entrypoint = LANGS[lang]
    kwargs = {} if timeout is None else {"timeout": timeout}
    fn = make_function(name=f"exec {lang} êä {uid()}", runtime=runtime, **kwargs)
    custom = f"custom value êä {uid()}"
    functions.create_variable(fn["$id"], "CUSTOM_VARIABLE", custom)
    # no package.json: test_deployments covers the npm path
    files = function_files(lang, package_json=False, requirements=requirements)
    path = write_targz(folder / f"{lang}-{uid()}.tar.gz", files)
    created, built = deploy(functions, fn["$id"], entrypoint, path, True, timeout=120)
    assert built["status"] == "ready", f"{lang} build failed: {built['buildStderr']}"
    return {"lang": lang, "function": fn, "deployment": built, "custom": custom}


@pytest.fixture(scope="module")
def apps(functions, make_module_function, archive_dir):
    """One function per runtime. The Python one has a requirements.txt (six, from PyPI)."""
    return {
        "node": build_app(functions, make_module_function, archive_dir, "node"),
        "python": build_app(functions, make_module_function, archive_dir, "python",
                            requirements="six==1.16.0\n"),
    }


@pytest.fixture(params=["node", "python"])
def app(request, apps):
    return apps[request.param]


def assert_received(app, execution, data, project_id):
    """The execution's response is the test function's res.json() echo of what it received."""
    fn = app["function"]
    runtime_name, runtime_version = RUNTIME_NAMES[fn["runtime"]]
    assert execution["statusCode"] == 200, execution
    # the JSON text keeps UTF-8 as is (no \\u escapes)
    assert "êä" in execution["response"]
    body = response_json(execution)
    assert body["runtime"] == app["lang"]
    assert body["payload"] == data
    assert body["utf8"] == "êä"
    assert body["headers"] == {}
    assert body["variables"] == {
        "APPWRITE_FUNCTION_ID": fn["$id"],
        "APPWRITE_FUNCTION_NAME": fn["name"],
        "APPWRITE_FUNCTION_DEPLOYMENT": app["deployment"]["$id"],
        "APPWRITE_FUNCTION_PROJECT_ID": project_id,
        "APPWRITE_FUNCTION_TRIGGER": "http",
        "APPWRITE_FUNCTION_RUNTIME_NAME": runtime_name,
        "APPWRITE_FUNCTION_RUNTIME_VERSION": runtime_version,
        "APPWRITE_FUNCTION_EVENT": "",
        "APPWRITE_FUNCTION_EVENT_DATA": "",
        "APPWRITE_FUNCTION_DATA": data,
        "APPWRITE_FUNCTION_USER_ID": "",
        "APPWRITE_FUNCTION_JWT": "",
        "CUSTOM_VARIABLE": app["custom"],
    }
    return body


# --- sync and async -------------------------------------------------------------------------


def test_sync_execution(functions, app, project_id):
    fn = app["function"]
    data = f'{{"hello": "wörld êä", "token": "{uid()}"}}'
    started = time.monotonic()
    execution = functions.create_execution(fn["$id"], data=data)
    elapsed = time.monotonic() - started
    assert_last(201)
    assert_execution_model(execution)
    assert_recent(execution["$createdAt"])
    assert execution["functionId"] == fn["$id"]
    assert execution["trigger"] == "http"
    assert execution["status"] == "completed"
    assert execution["$permissions"] == []
    assert_received(app, execution, data, project_id)
    assert execution["stdout"].splitlines() == [f"{app['lang']} handler got {data}"]
    assert execution["stderr"] == ""
    assert 0 < execution["duration"] < elapsed + 0.5

    fetched = functions.get_execution(fn["$id"], execution["$id"])
    assert_last(200)
    assert fetched == execution


def test_async_execution(functions, app, project_id):
    fn = app["function"]
    data = f"async {uid()} êä"
    accepted = functions.create_execution(fn["$id"], data=data, xasync=True)
    assert_last(202)
    assert_execution_model(accepted)
    assert accepted["functionId"] == fn["$id"]
    assert accepted["trigger"] == "http"
    assert accepted["status"] == "waiting"
    assert accepted["statusCode"] == 0
    assert accepted["response"] == ""
    assert accepted["stdout"] == ""
    assert accepted["stderr"] == ""
    assert accepted["duration"] == 0

    done = wait_for_execution(functions, fn["$id"], accepted["$id"])
    assert_execution_model(done)
    assert done["status"] == "completed", done
    assert done["$id"] == accepted["$id"]
    assert done["$createdAt"] == accepted["$createdAt"]
    assert done["trigger"] == "http"
    assert_received(app, done, data, project_id)
    assert done["stdout"].splitlines() == [f"{app['lang']} handler got {data}"]
    assert done["stderr"] == ""
    assert done["duration"] > 0


STATIC_KEYS = [
    "APPWRITE_FUNCTION_ID", "APPWRITE_FUNCTION_NAME", "APPWRITE_FUNCTION_DEPLOYMENT",
    "APPWRITE_FUNCTION_PROJECT_ID", "APPWRITE_FUNCTION_RUNTIME_NAME", "APPWRITE_FUNCTION_RUNTIME_VERSION",
    "CUSTOM_VARIABLE",
]
PER_CALL_KEYS = sorted(SYSTEM_KEYS - set(STATIC_KEYS))


def test_process_environment(functions, app):
    """The function's own variables and the per-function system ones are in the process
    environment too, with the values of req.variables."""
    execution = functions.create_execution(app["function"]["$id"], data="env")
    assert execution["status"] == "completed", execution
    body = response_json(execution)
    assert {key: body["env"][key] for key in STATIC_KEYS} == {key: body["variables"][key] for key in STATIC_KEYS}


def test_process_environment_has_the_per_call_variables(functions, app):
    execution = functions.create_execution(app["function"]["$id"], data="env")
    assert execution["status"] == "completed", execution
    body = response_json(execution)
    env = body["env"]
    missing = [key for key in PER_CALL_KEYS if env.get(key) is None]
    assert not missing, f"not in the process environment: {missing}"
    # the values of this call, as in req.variables
    assert {key: env[key] for key in PER_CALL_KEYS} == {key: body["variables"][key] for key in PER_CALL_KEYS}


def test_requirements_are_installed_into_the_deployment(functions, apps):
    app = apps["python"]
    assert "six" in app["deployment"]["buildStdout"], app["deployment"]["buildStdout"]
    body = response_json(functions.create_execution(app["function"]["$id"], data="six"))
    # imported from the deployment, not from the interpreter's own site-packages
    assert body["six"] is not None
    assert body["six"].startswith(body["here"] + os.sep), body
    assert os.path.basename(body["six"]).startswith("six")


def test_stderr_is_captured(functions, app):
    execution = functions.create_execution(app["function"]["$id"], data="stderr")
    assert execution["status"] == "completed", execution
    assert execution["statusCode"] == 200
    assert execution["stdout"].splitlines() == [f"{app['lang']} handler got stderr"]
    assert execution["stderr"].splitlines() == [f"{app['lang']} handler wrote to stderr"]


def test_send_with_status_404_is_completed(functions, app):
    execution = functions.create_execution(app["function"]["$id"], data="notfound")
    assert_last(201)
    assert execution["status"] == "completed"
    assert execution["statusCode"] == 404
    assert execution["response"] == f"{app['lang']}: nothing here"
    assert execution["stdout"].splitlines() == [f"{app['lang']} handler got notfound"]
    assert execution["stderr"] == ""


@pytest.mark.parametrize("xasync", [False, True], ids=["sync", "async"])
def test_thrown_error_fails_with_500(functions, app, xasync):
    fn_id = app["function"]["$id"]
    execution = functions.create_execution(fn_id, data="throw", xasync=xasync)
    if xasync:
        assert_last(202)
        execution = wait_for_execution(functions, fn_id, execution["$id"])
    else:
        assert_last(201)
    assert_execution_model(execution)
    assert execution["status"] == "failed"
    assert execution["statusCode"] == 500
    assert execution["response"] == ""
    assert f"{app['lang']} handler exploded on purpose" in execution["stderr"], execution["stderr"]
    # the next call still works
    after = functions.create_execution(fn_id, data="after the error")
    assert after["status"] == "completed", after
    assert response_json(after)["payload"] == "after the error"


@pytest.mark.parametrize("lang,xasync", [("node", False), ("python", True)])
def test_timeout_fails_and_the_next_call_works(functions, make_function, tmp_path, lang, xasync):
    app = build_app(functions, make_function, tmp_path, lang, timeout=2)
    fn_id = app["function"]["$id"]
    started = time.monotonic()
    execution = functions.create_execution(fn_id, data="sleep", xasync=xasync)
    if xasync:
        assert_last(202)
        execution = wait_for_execution(functions, fn_id, execution["$id"])
    else:
        assert_last(201)
    elapsed = time.monotonic() - started
    assert_execution_model(execution)
    assert execution["status"] == "failed", execution
    assert execution["statusCode"] == 500
    assert execution["response"] == ""
    assert "timed out" in execution["stderr"].lower(), execution["stderr"]
    assert 1.9 <= execution["duration"] < 4.5, execution["duration"]
    assert elapsed < 4.5, f"the 5 s handler was not cut at the 2 s timeout ({elapsed:.1f} s)"

    after = functions.create_execution(fn_id, data="after the timeout")
    assert after["status"] == "completed", after
    assert after["statusCode"] == 200
    assert response_json(after)["payload"] == "after the timeout"


# --- listing and getting --------------------------------------------------------------------


@pytest.fixture(scope="module")
def history(functions, make_module_function, archive_dir):
    """A Node function with four executions: ok (sync), 404 (sync), thrown (sync), ok (async)."""
    app = build_app(functions, make_module_function, archive_dir, "node")
    fn_id = app["function"]["$id"]
    ok = functions.create_execution(fn_id, data="first")
    missing = functions.create_execution(fn_id, data="notfound")
    thrown = functions.create_execution(fn_id, data="throw")
    queued = functions.create_execution(fn_id, data="fourth", xasync=True)
    later = wait_for_execution(functions, fn_id, queued["$id"])
    executions = [ok, missing, thrown, later]
    assert [ex["status"] for ex in executions] == ["completed", "completed", "failed", "completed"]
    return {"app": app, "executions": executions, "ids": [ex["$id"] for ex in executions]}


def test_list_executions(functions, history):
    fn_id, ids = history["app"]["function"]["$id"], history["ids"]
    page = functions.list_executions(fn_id)
    assert_last(200)
    assert list(page.keys()) == ["total", "executions"]
    assert page["total"] == 4
    assert execution_ids(page) == ids  # creation order
    for listed, direct in zip(page["executions"], history["executions"]):
        assert_execution_model(listed)
        assert listed == functions.get_execution(fn_id, direct["$id"])
    assert [ex["statusCode"] for ex in page["executions"]] == [200, 404, 500, 200]
    assert page["executions"][0]["stdout"].splitlines() == ["node handler got first"]
    assert response_json(page["executions"][3])["payload"] == "fourth"


def test_list_executions_queries(functions, history):
    fn_id, ids = history["app"]["function"]["$id"], history["ids"]

    def query(*queries, search=None):
        page = functions.list_executions(fn_id, list(queries) or None, search)
        return page["total"], execution_ids(page)

    assert query(Query.equal("trigger", ["http"])) == (4, ids)
    assert query(Query.equal("trigger", ["schedule", "event"])) == (0, [])
    assert query(Query.equal("status", ["completed"])) == (3, [ids[0], ids[1], ids[3]])
    assert query(Query.equal("status", ["failed"])) == (1, [ids[2]])
    assert query(Query.equal("status", ["waiting", "processing"])) == (0, [])
    assert query(Query.equal("statusCode", [404])) == (1, [ids[1]])
    assert query(Query.greaterThanEqual("statusCode", 400)) == (2, ids[1:3])
    assert query(Query.equal("status", ["completed"]), Query.equal("statusCode", [200])) == (2, [ids[0], ids[3]])
    assert query(Query.limit(2)) == (4, ids[:2])
    assert query(Query.limit(0)) == (4, [])
    assert query(Query.offset(3)) == (4, ids[3:])
    assert query(Query.cursorAfter(ids[0])) == (4, ids[1:])
    assert query(Query.cursorBefore(ids[3]), Query.limit(2)) == (4, ids[1:3])
    assert query(Query.equal("$id", [ids[2]])) == (1, [ids[2]])

    # search matches "<functionId> <executionId>"
    assert query(search=ids[2]) == (1, [ids[2]])
    assert query(search=fn_id) == (4, ids)
    assert query(search="nomatch" + uid()) == (0, [])

    expect_error(lambda: functions.list_executions(fn_id, [Query.equal("response", ["x"])]), 400,
                 "general_argument_invalid")
    expect_error(lambda: functions.list_executions(fn_id, [Query.equal("statusCode", ["404"])]), 400,
                 "general_argument_invalid")
    expect_error(lambda: functions.list_executions(fn_id, [Query.cursorAfter("missing" + uid())]), 400,
                 "general_cursor_not_found")


def test_get_execution_errors(functions, history, apps):
    fn_id = history["app"]["function"]["$id"]
    expect_error(lambda: functions.get_execution(fn_id, "missing" + uid()), 404, "execution_not_found")
    other = functions.create_execution(apps["node"]["function"]["$id"], data="other")
    expect_error(lambda: functions.get_execution(fn_id, other["$id"]), 404, "execution_not_found")
    expect_error(lambda: functions.get_execution("missing" + uid(), other["$id"]), 404, "function_not_found")
    expect_error(lambda: functions.list_executions("missing" + uid()), 404, "function_not_found")


# --- errors ---------------------------------------------------------------------------------


def test_execute_without_deployment(functions, make_function):
    fn = make_function(name=f"no deployment {uid()}")
    for xasync in (None, False, True):
        err = expect_error(lambda: functions.create_execution(fn["$id"], xasync=xasync), 404, "deployment_not_found")
        assert err.message
    assert functions.list_executions(fn["$id"]) == {"total": 0, "executions": []}


def test_execute_unknown_function(functions):
    expect_error(lambda: functions.create_execution("missing" + uid()), 404, "function_not_found")


def test_disabled_function_is_not_found_even_with_a_key(functions, make_function, tmp_path):
    app = build_app(functions, make_function, tmp_path, "node")
    fn = app["function"]
    before = functions.create_execution(fn["$id"], data="while enabled")
    assert before["status"] == "completed", before

    functions.update(fn["$id"], fn["name"], fn["execute"], enabled=False)
    for xasync in (False, True):
        expect_error(lambda: functions.create_execution(fn["$id"], xasync=xasync), 404, "function_not_found")
    expect_error(lambda: functions.list_executions(fn["$id"]), 404, "function_not_found")
    expect_error(lambda: functions.get_execution(fn["$id"], before["$id"]), 404, "function_not_found")
    # the function itself is still readable
    assert functions.get(fn["$id"])["enabled"] is False

    functions.update(fn["$id"], fn["name"], fn["execute"], enabled=True)
    again = functions.create_execution(fn["$id"], data="enabled again")
    assert again["status"] == "completed", again
    assert functions.list_executions(fn["$id"])["total"] == 2


def test_data_length_limit(functions, apps):
    fn_id = apps["node"]["function"]["$id"]
    expect_error(lambda: functions.create_execution(fn_id, data="x" * 8193), 400, "general_argument_invalid")
    expect_error(lambda: functions.create_execution(fn_id, data="x" * 8193, xasync=True), 400,
                 "general_argument_invalid")
    # 8192 characters (not bytes) are fine
    data = "é" * 8192
    execution = functions.create_execution(fn_id, data=data)
    assert execution["status"] == "completed", execution
    assert response_json(execution)["payload"] == data


def test_defaults_for_null_params(functions, apps):
    """The Python SDK sends {"data": null, "async": null}: a sync call with empty data."""
    fn_id = apps["python"]["function"]["$id"]
    execution = functions.create_execution(fn_id)
    assert_last(201)
    assert execution["status"] == "completed", execution
    body = response_json(execution)
    assert body["payload"] == ""
    assert body["variables"]["APPWRITE_FUNCTION_DATA"] == ""
    assert execution["stdout"].splitlines() == ["python handler got "]


def test_concurrent_calls_keep_their_own_logs(functions, app):
    """Sync calls made at the same time each get their own data, response and stdout."""
    fn_id = app["function"]["$id"]
    tokens = [f"slow:{i}-{uid()}" for i in range(4)]
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        results = list(pool.map(lambda data: functions.create_execution(fn_id, data=data), tokens))
    for data, execution in zip(tokens, results):
        assert execution["status"] == "completed", execution
        assert response_json(execution)["payload"] == data
        assert execution["stdout"].splitlines() == [f"{app['lang']} handler got {data}"]
        assert execution["stderr"] == ""
    assert len({ex["$id"] for ex in results}) == len(tokens)
