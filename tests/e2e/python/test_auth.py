"""Projects, API keys and scopes through the Python SDK 1.1.0 (keys/projects made with the CLI)."""

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from support import ALL_SCOPES, NODE_RUNTIME, expect_error, make_client, uid


@pytest.fixture(scope="module")
def other_project(cli):
    """A second project with its own all-scopes key and one function in it."""
    project = cli.create_project(name="python e2e other")
    key = cli.create_key(project, ALL_SCOPES, name="python e2e other key")
    funcs = Functions(make_client(project, key))
    fn = funcs.create(f"other{uid()}", f"other {uid()}", [], NODE_RUNTIME)
    yield {"project": project, "key": key, "functions": funcs, "function": fn}
    try:
        funcs.delete(fn["$id"])
    except AppwriteException:
        pass


def test_read_only_key_cannot_write(cli, project_id, make_function):
    target = make_function()
    key = cli.create_key(project_id, ["functions.read"], name="read only")
    reader = Functions(make_client(project_id, key))

    # reading works
    assert reader.get(target["$id"]) == target
    assert reader.list(search=target["$id"])["total"] == 1
    assert reader.list_runtimes()["total"] > 0
    assert reader.list_variables(target["$id"]) == {"total": 0, "variables": []}

    # writing does not
    err = expect_error(
        lambda: reader.create(f"ro{uid()}", "nope", [], NODE_RUNTIME), 401, "general_unauthorized_scope"
    )
    assert "functions.write" in err.message
    err = expect_error(lambda: reader.update(target["$id"], "nope", []), 401, "general_unauthorized_scope")
    assert "functions.write" in err.message
    expect_error(lambda: reader.delete(target["$id"]), 401, "general_unauthorized_scope")
    expect_error(lambda: reader.create_variable(target["$id"], "K", "v"), 401, "general_unauthorized_scope")
    # nothing changed
    assert reader.get(target["$id"]) == target


def test_write_only_key_cannot_read(cli, project_id, functions):
    key = cli.create_key(project_id, ["functions.write"], name="write only")
    writer = Functions(make_client(project_id, key))
    fn = writer.create(f"wo{uid()}", f"write only {uid()}", [], NODE_RUNTIME)
    try:
        assert fn["name"].startswith("write only")
        err = expect_error(lambda: writer.list(), 401, "general_unauthorized_scope")
        assert "functions.read" in err.message
        expect_error(lambda: writer.get(fn["$id"]), 401, "general_unauthorized_scope")
        expect_error(lambda: writer.list_runtimes(), 401, "general_unauthorized_scope")
        assert functions.get(fn["$id"])["$id"] == fn["$id"]
    finally:
        functions.delete(fn["$id"])


def test_execution_scopes_do_not_grant_functions_access(cli, project_id):
    key = cli.create_key(project_id, ["execution.read", "execution.write"], name="executions only")
    runner = Functions(make_client(project_id, key))
    err = expect_error(lambda: runner.list(), 401, "general_unauthorized_scope")
    assert "functions.read" in err.message
    err = expect_error(lambda: runner.create(f"ex{uid()}", "nope", [], NODE_RUNTIME), 401, "general_unauthorized_scope")
    assert "functions.write" in err.message


def test_no_key_is_401(project_id, make_function):
    fn = make_function()
    guest = Functions(make_client(project_id))
    expect_error(lambda: guest.list(), 401, "general_unauthorized_scope")
    expect_error(lambda: guest.get(fn["$id"]), 401, "general_unauthorized_scope")
    expect_error(lambda: guest.create(f"g{uid()}", "nope", [], NODE_RUNTIME), 401, "general_unauthorized_scope")
    expect_error(lambda: guest.list_runtimes(), 401, "general_unauthorized_scope")


def test_unknown_key_is_401(project_id):
    stranger = Functions(make_client(project_id, "not-a-real-key-" + uid()))
    expect_error(lambda: stranger.list(), 401, "general_unauthorized_scope")
    expect_error(lambda: stranger.create(f"s{uid()}", "nope", [], NODE_RUNTIME), 401, "general_unauthorized_scope")


def test_unknown_project_is_404(api_key):
    nowhere = Functions(make_client(f"noproject{uid()}", api_key))
    err = expect_error(lambda: nowhere.list(), 404, "project_not_found")
    assert err.message
    expect_error(lambda: nowhere.list_runtimes(), 404, "project_not_found")
    expect_error(lambda: Functions(make_client(f"noproject{uid()}")).list(), 404, "project_not_found")


def test_key_of_default_project_is_unknown_in_other_project(other_project, api_key, make_function):
    mine = make_function()
    cross = Functions(make_client(other_project["project"], api_key))
    expect_error(lambda: cross.list(), 401, "general_unauthorized_scope")
    expect_error(lambda: cross.get(mine["$id"]), 401, "general_unauthorized_scope")
    expect_error(lambda: cross.get(other_project["function"]["$id"]), 401, "general_unauthorized_scope")
    expect_error(lambda: cross.create(f"x{uid()}", "nope", [], NODE_RUNTIME), 401, "general_unauthorized_scope")


def test_key_of_other_project_sees_only_its_functions(other_project, project_id, functions, make_function):
    mine = make_function()
    theirs = other_project["function"]
    their_functions = other_project["functions"]

    page = their_functions.list()
    assert page["total"] == 1
    assert [fn["$id"] for fn in page["functions"]] == [theirs["$id"]]
    assert page["functions"][0] == theirs
    assert their_functions.list(search=mine["$id"])["total"] == 0
    expect_error(lambda: their_functions.get(mine["$id"]), 404, "function_not_found")
    expect_error(lambda: their_functions.delete(mine["$id"]), 404, "function_not_found")

    # and the default project does not see the other one's function
    assert functions.list(search=theirs["$id"])["total"] == 0
    expect_error(lambda: functions.get(theirs["$id"]), 404, "function_not_found")

    # the other project's key is unknown in the default project
    back = Functions(make_client(project_id, other_project["key"]))
    expect_error(lambda: back.list(), 401, "general_unauthorized_scope")
    expect_error(lambda: back.get(mine["$id"]), 401, "general_unauthorized_scope")


def test_same_function_id_in_two_projects(other_project, functions, make_function):
    shared = f"shared{uid()}"
    mine = make_function(function_id=shared, name="in default")
    theirs = other_project["functions"].create(shared, "in other", [], NODE_RUNTIME)
    try:
        assert mine["$id"] == theirs["$id"] == shared
        assert other_project["functions"].get(shared)["name"] == "in other"
        var = other_project["functions"].create_variable(shared, "ONLY_OTHER", "x")
        assert var["functionId"] == shared
    finally:
        other_project["functions"].delete(shared)
    # deleting the other project's copy leaves ours alone, without the other's variable
    kept = functions.get(shared)
    assert kept["name"] == "in default"
    assert kept["vars"] == []
