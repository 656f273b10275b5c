"""Deployments through the Python SDK 1.1.0: uploads (single and chunked), builds, activation,
listing, retries and deletion. The archives are built here from tests/e2e/functions/<lang>/."""

import hashlib
import os

import pytest
from appwrite.input_file import InputFile
from appwrite.query import Query

from support import (
    FUNCTION_FIELDS,
    NODE_ENTRYPOINT,
    NODE_RUNTIME,
    PYTHON_ENTRYPOINT,
    PYTHON_RUNTIME,
    assert_deployment_model,
    assert_last,
    assert_recent,
    deploy,
    expect_error,
    function_files,
    last_status,
    make_targz,
    parse_datetime,
    response_json,
    uid,
    wait_for_build,
    write_targz,
)

CHUNK = 5 * 1024 * 1024  # the SDKs' chunk size


def deployment_ids(page):
    return [dep["$id"] for dep in page["deployments"]]


@pytest.fixture(scope="module")
def node_app(functions, make_module_function, archive_dir):
    """A Node function with one deployment (index.js + package.json) uploaded with activate=true."""
    fn = make_module_function(name=f"deploy node {uid()}", runtime=NODE_RUNTIME)
    path = write_targz(archive_dir / "node.tar.gz", function_files("node"))
    created = functions.create_deployment(fn["$id"], NODE_ENTRYPOINT, InputFile.from_path(str(path)), True)
    status = last_status()
    built = wait_for_build(functions, fn["$id"], created["$id"])
    return {"function": fn, "path": path, "created": created, "status": status, "built": built}


@pytest.fixture(scope="module")
def python_app(functions, make_module_function, archive_dir):
    """A Python function with one deployment (main.py) uploaded with activate=false."""
    fn = make_module_function(name=f"deploy python {uid()}", runtime=PYTHON_RUNTIME)
    path = write_targz(archive_dir / "python.tar.gz", function_files("python"))
    created, built = deploy(functions, fn["$id"], PYTHON_ENTRYPOINT, path, False)
    return {"function": fn, "path": path, "created": created, "built": built}


# --- upload and build -----------------------------------------------------------------------


def test_upload_with_activate_true_builds_and_activates(functions, node_app):
    fn, created, built = node_app["function"], node_app["created"], node_app["built"]
    size = os.path.getsize(node_app["path"])

    # the upload answer: 202 and the stored deployment, build not done yet
    assert node_app["status"] == 202
    assert_deployment_model(created)
    assert_recent(created["$createdAt"])
    assert created["resourceId"] == fn["$id"]
    assert created["resourceType"] == "functions"
    assert created["entrypoint"] == NODE_ENTRYPOINT
    assert created["size"] == size
    assert created["activate"] is True
    assert created["status"] in ("processing", "building")

    # after the build
    assert_deployment_model(built)
    assert built["status"] == "ready", f"build failed: {built['buildStderr']}"
    assert built["$id"] == created["$id"]
    assert built["$createdAt"] == created["$createdAt"]
    assert built["resourceId"] == fn["$id"]
    assert built["entrypoint"] == NODE_ENTRYPOINT
    assert built["size"] == size
    assert built["activate"] is True
    assert built["buildId"] != ""
    assert built["buildStdout"] != "", "a package.json build must show npm's output"
    assert isinstance(built["buildStderr"], str)

    fetched = functions.get_deployment(fn["$id"], created["$id"])
    assert_last(200)
    assert fetched["status"] == "ready"
    assert fetched["buildId"] == built["buildId"]
    assert fetched["buildStdout"] == built["buildStdout"]

    # activate=true made it the function's deployment
    after = functions.get(fn["$id"])
    assert after["deployment"] == created["$id"]
    assert parse_datetime(after["$updatedAt"]) >= parse_datetime(fn["$updatedAt"])

    # and it runs: package.json was deployed next to index.js
    execution = functions.create_execution(fn["$id"], data="ping")
    assert execution["status"] == "completed", execution
    body = response_json(execution)
    assert body["variables"]["APPWRITE_FUNCTION_DEPLOYMENT"] == created["$id"]
    assert body["packageName"] == "functiond-e2e-node-function"


def test_upload_with_activate_false_then_patch(functions, python_app):
    fn, created, built = python_app["function"], python_app["created"], python_app["built"]
    assert_deployment_model(created)
    assert created["activate"] is False
    assert created["entrypoint"] == PYTHON_ENTRYPOINT
    assert created["size"] == os.path.getsize(python_app["path"])
    assert built["status"] == "ready", f"build failed: {built['buildStderr']}"
    assert built["activate"] is False
    assert built["buildStdout"] != ""

    # not active yet: executing fails
    assert functions.get(fn["$id"])["deployment"] == ""
    expect_error(lambda: functions.create_execution(fn["$id"]), 404, "deployment_not_found")

    updated = functions.update_deployment(fn["$id"], created["$id"])
    assert_last(200)
    assert set(updated.keys()) == FUNCTION_FIELDS  # PATCH answers with the Function model
    assert updated["$id"] == fn["$id"]
    assert updated["deployment"] == created["$id"]
    assert functions.get(fn["$id"])["deployment"] == created["$id"]

    execution = functions.create_execution(fn["$id"], data="after patch")
    assert execution["status"] == "completed", execution
    body = response_json(execution)
    assert body["payload"] == "after patch"
    assert body["variables"]["APPWRITE_FUNCTION_DEPLOYMENT"] == created["$id"]


def test_patch_errors(functions, python_app):
    fn_id = python_app["function"]["$id"]
    expect_error(lambda: functions.update_deployment(fn_id, "missing" + uid()), 404, "deployment_not_found")
    expect_error(
        lambda: functions.update_deployment("missing" + uid(), python_app["created"]["$id"]), 404, "function_not_found"
    )


def test_activating_another_deployment_and_deleting(functions, make_module_function, archive_dir):
    fn = make_module_function(name=f"activation {uid()}", runtime=NODE_RUNTIME)
    path = write_targz(archive_dir / f"activation-{uid()}.tar.gz", function_files("node", package_json=False))
    first, first_built = deploy(functions, fn["$id"], NODE_ENTRYPOINT, path, True)
    assert first_built["status"] == "ready", first_built["buildStderr"]
    assert functions.get(fn["$id"])["deployment"] == first["$id"]

    second, second_built = deploy(functions, fn["$id"], NODE_ENTRYPOINT, path, True)
    assert second_built["status"] == "ready", second_built["buildStderr"]
    assert functions.get(fn["$id"])["deployment"] == second["$id"]
    # a new activate=true upload clears the flag of the older ones
    assert functions.get_deployment(fn["$id"], first["$id"])["activate"] is False
    assert functions.get_deployment(fn["$id"], second["$id"])["activate"] is True
    body = response_json(functions.create_execution(fn["$id"]))
    assert body["variables"]["APPWRITE_FUNCTION_DEPLOYMENT"] == second["$id"]

    # back to the first one
    assert functions.update_deployment(fn["$id"], first["$id"])["deployment"] == first["$id"]
    body = response_json(functions.create_execution(fn["$id"]))
    assert body["variables"]["APPWRITE_FUNCTION_DEPLOYMENT"] == first["$id"]

    # deleting an inactive deployment leaves the function alone
    result = functions.delete_deployment(fn["$id"], second["$id"])
    assert_last(204)
    assert result == b""
    expect_error(lambda: functions.get_deployment(fn["$id"], second["$id"]), 404, "deployment_not_found")
    assert functions.get(fn["$id"])["deployment"] == first["$id"]
    assert deployment_ids(functions.list_deployments(fn["$id"])) == [first["$id"]]

    # deleting the active one resets the function's deployment
    functions.delete_deployment(fn["$id"], first["$id"])
    assert_last(204)
    expect_error(lambda: functions.get_deployment(fn["$id"], first["$id"]), 404, "deployment_not_found")
    assert functions.get(fn["$id"])["deployment"] == ""
    assert functions.list_deployments(fn["$id"]) == {"total": 0, "deployments": []}
    expect_error(lambda: functions.create_execution(fn["$id"]), 404, "deployment_not_found")

    # and again: gone
    expect_error(lambda: functions.delete_deployment(fn["$id"], first["$id"]), 404, "deployment_not_found")


# --- build failures and retries ---------------------------------------------------------------


def test_build_failure_then_retry(functions, make_function, tmp_path):
    fn = make_function(name=f"broken {uid()}", runtime=PYTHON_RUNTIME)
    path = write_targz(tmp_path / "broken.tar.gz", function_files("python"))  # has main.py only
    created, failed = deploy(functions, fn["$id"], "missing.py", path, True)
    assert_deployment_model(failed)
    assert failed["status"] == "failed"
    assert "missing.py" in failed["buildStderr"], failed["buildStderr"]
    assert failed["buildId"] != ""
    # a failed build does not activate
    assert functions.get(fn["$id"])["deployment"] == ""
    expect_error(lambda: functions.update_deployment(fn["$id"], created["$id"]), 400, "build_not_ready")
    expect_error(lambda: functions.create_execution(fn["$id"]), 404, "deployment_not_found")

    result = functions.retry_build(fn["$id"], created["$id"], failed["buildId"])
    assert_last(204)
    assert result == b""
    again = wait_for_build(functions, fn["$id"], created["$id"])
    assert again["status"] == "failed"
    assert "missing.py" in again["buildStderr"], again["buildStderr"]
    assert again["buildId"] == failed["buildId"]
    assert functions.get(fn["$id"])["deployment"] == ""

    expect_error(
        lambda: functions.retry_build(fn["$id"], created["$id"], "missing" + uid()), 404, "build_not_found"
    )
    expect_error(
        lambda: functions.retry_build(fn["$id"], "missing" + uid(), failed["buildId"]), 404, "deployment_not_found"
    )


def test_retry_of_a_ready_build_is_refused(functions, node_app):
    fn, built = node_app["function"], node_app["built"]
    err = expect_error(
        lambda: functions.retry_build(fn["$id"], built["$id"], built["buildId"]), 400, "build_in_progress"
    )
    assert err.message == "Build not failed"
    assert functions.get_deployment(fn["$id"], built["$id"])["status"] == "ready"


# --- chunked upload -------------------------------------------------------------------------


def test_chunked_upload_of_an_incompressible_archive(functions, make_function, tmp_path):
    fn = make_function(name=f"large {uid()}", runtime=NODE_RUNTIME)
    blob = os.urandom(6 * 1024 * 1024 + 123_457)  # random bytes: gzip cannot shrink them
    path = write_targz(
        tmp_path / "large.tar.gz", function_files("node", package_json=False, extra={"blob.bin": blob})
    )
    size = os.path.getsize(path)
    assert CHUNK < size < 2 * CHUNK

    progress = []
    # InputFile.from_path: the SDK's from_bytes slices the last chunk wrongly in 1.1.0
    created = functions.create_deployment(
        fn["$id"], NODE_ENTRYPOINT, InputFile.from_path(str(path)), True, on_progress=progress.append
    )
    assert_last(202)
    assert_deployment_model(created)
    assert [p["$id"] for p in progress] == [created["$id"]] * 2, progress
    assert [p["chunksTotal"] for p in progress] == [2, 2]
    assert [p["chunksUploaded"] for p in progress] == [1, 2]
    assert created["size"] == size
    assert created["entrypoint"] == NODE_ENTRYPOINT
    assert created["activate"] is True

    built = wait_for_build(functions, fn["$id"], created["$id"], timeout=60)
    assert built["status"] == "ready", built["buildStderr"]
    assert built["size"] == size
    assert functions.get(fn["$id"])["deployment"] == created["$id"]
    listed = functions.list_deployments(fn["$id"])
    assert listed["total"] == 1
    assert listed["deployments"][0]["size"] == size

    # the function sees the very bytes that were uploaded
    execution = functions.create_execution(fn["$id"], data="large")
    assert execution["status"] == "completed", execution
    assert response_json(execution)["blob"] == {
        "size": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
    }


# --- listing and getting --------------------------------------------------------------------


@pytest.fixture(scope="module")
def listed(functions, make_module_function, archive_dir):
    """A function with three built deployments: index.js, index.js, other.js (none active)."""
    fn = make_module_function(name=f"listing {uid()}", runtime=NODE_RUNTIME)
    files = function_files("node", package_json=False)
    index = write_targz(archive_dir / "listing-index.tar.gz", files)
    # random padding makes this archive's size differ from the other one's
    other = write_targz(
        archive_dir / "listing-other.tar.gz", {"other.js": files[NODE_ENTRYPOINT], "padding.bin": os.urandom(999)}
    )
    uploads = [
        functions.create_deployment(fn["$id"], NODE_ENTRYPOINT, InputFile.from_path(str(index)), False),
        functions.create_deployment(fn["$id"], NODE_ENTRYPOINT, InputFile.from_path(str(index)), False),
        functions.create_deployment(fn["$id"], "other.js", InputFile.from_path(str(other)), False),
    ]
    built = [wait_for_build(functions, fn["$id"], dep["$id"]) for dep in uploads]
    for dep in built:
        assert dep["status"] == "ready", dep["buildStderr"]
    return {"function": fn, "ids": [dep["$id"] for dep in uploads], "built": built,
            "sizes": [os.path.getsize(index), os.path.getsize(index), os.path.getsize(other)]}


def test_list_deployments(functions, listed):
    fn_id, ids = listed["function"]["$id"], listed["ids"]
    page = functions.list_deployments(fn_id)
    assert_last(200)
    assert list(page.keys()) == ["total", "deployments"]
    assert page["total"] == 3
    assert deployment_ids(page) == ids  # creation order
    for dep, size in zip(page["deployments"], listed["sizes"]):
        assert_deployment_model(dep)
        assert dep["resourceId"] == fn_id
        assert dep["status"] == "ready"
        assert dep["buildStdout"] != ""
        assert dep["buildId"] != ""
        assert dep["activate"] is False
        assert dep["size"] == size
    assert [dep["entrypoint"] for dep in page["deployments"]] == [NODE_ENTRYPOINT, NODE_ENTRYPOINT, "other.js"]
    assert page["deployments"] == listed["built"]


def test_list_deployments_queries(functions, listed):
    fn_id, ids = listed["function"]["$id"], listed["ids"]

    def query(*queries, search=None):
        page = functions.list_deployments(fn_id, list(queries) or None, search)
        return page["total"], deployment_ids(page)

    assert query(Query.limit(1)) == (3, ids[:1])
    assert query(Query.limit(0)) == (3, [])
    assert query(Query.offset(1)) == (3, ids[1:])
    assert query(Query.limit(1), Query.offset(2)) == (3, ids[2:])
    assert query(Query.equal("entrypoint", [NODE_ENTRYPOINT])) == (2, ids[:2])
    assert query(Query.equal("entrypoint", ["other.js"])) == (1, ids[2:])
    assert query(Query.equal("entrypoint", [NODE_ENTRYPOINT, "other.js"])) == (3, ids)
    assert query(Query.equal("entrypoint", ["nope.js"])) == (0, [])
    assert query(Query.equal("activate", [False])) == (3, ids)
    assert query(Query.equal("activate", [True])) == (0, [])
    assert query(Query.equal("size", [listed["sizes"][2]])) == (1, ids[2:])
    assert query(Query.equal("$id", [ids[1]])) == (1, [ids[1]])
    assert query(Query.cursorAfter(ids[0])) == (3, ids[1:])
    assert query(Query.cursorBefore(ids[2])) == (3, ids[:2])
    assert query(Query.equal("entrypoint", [NODE_ENTRYPOINT]), Query.cursorAfter(ids[0])) == (2, ids[1:2])

    # search matches "<deploymentId> <entrypoint>"
    assert query(search=ids[1]) == (1, [ids[1]])
    assert query(search="other") == (1, ids[2:])
    assert query(search="nomatch" + uid()) == (0, [])

    expect_error(lambda: functions.list_deployments(fn_id, [Query.equal("status", ["ready"])]), 400,
                 "general_argument_invalid")
    expect_error(lambda: functions.list_deployments(fn_id, [Query.cursorAfter("missing" + uid())]), 400,
                 "general_cursor_not_found")
    expect_error(lambda: functions.list_deployments("missing" + uid()), 404, "function_not_found")


def test_get_deployment(functions, listed, node_app):
    fn_id, ids = listed["function"]["$id"], listed["ids"]
    dep = functions.get_deployment(fn_id, ids[2])
    assert_last(200)
    assert_deployment_model(dep)
    assert dep == listed["built"][2]
    assert dep["entrypoint"] == "other.js"
    assert dep["status"] == "ready"
    assert dep["buildStdout"] != ""

    expect_error(lambda: functions.get_deployment(fn_id, "missing" + uid()), 404, "deployment_not_found")
    # a deployment of another function
    expect_error(
        lambda: functions.get_deployment(fn_id, node_app["created"]["$id"]), 404, "deployment_not_found"
    )
    expect_error(lambda: functions.get_deployment("missing" + uid(), ids[0]), 404, "function_not_found")


# --- upload errors --------------------------------------------------------------------------


def test_upload_errors(functions, make_function):
    fn = make_function(name=f"upload errors {uid()}")
    archive = function_files("node")
    for name in ("code.tar", "code.zip", "code.gz.tar", "code"):
        err = expect_error(
            lambda: functions.create_deployment(
                fn["$id"], NODE_ENTRYPOINT, InputFile.from_bytes(make_targz(archive), name), True
            ),
            400,
            "storage_file_type_unsupported",
        )
        assert err.message
    expect_error(
        lambda: functions.create_deployment(
            "missing" + uid(), NODE_ENTRYPOINT, InputFile.from_bytes(b"x", "code.tar.gz"), True
        ),
        404,
        "function_not_found",
    )
    # nothing was stored
    assert functions.list_deployments(fn["$id"])["total"] == 0
    assert functions.get(fn["$id"])["deployment"] == ""
