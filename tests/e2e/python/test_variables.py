"""Function variables (create/list/get/update/delete) through the Python SDK 1.1.0."""

from support import (
    GENERATED_ID_RE,
    assert_function_model,
    assert_last,
    assert_recent,
    assert_variable_model,
    expect_error,
    uid,
)


def test_variable_lifecycle(functions, make_function):
    fn = make_function()
    fid = fn["$id"]

    first = functions.create_variable(fid, "APP_TEST", "TESTINGVALUE")
    assert_last(201)
    assert_variable_model(first)
    assert GENERATED_ID_RE.match(first["$id"]), f"variable id {first['$id']!r} is not server-generated"
    assert first["key"] == "APP_TEST"
    assert first["value"] == "TESTINGVALUE"
    assert first["functionId"] == fid
    assert_recent(first["$createdAt"])

    second = functions.create_variable(fid, "SECOND_KEY", "second value")
    assert second["$id"] != first["$id"]

    # duplicate key on the same function
    err = expect_error(
        lambda: functions.create_variable(fid, "APP_TEST", "other"), 409, "variable_already_exists"
    )
    assert err.message

    listed = functions.list_variables(fid)
    assert_last(200)
    assert set(listed.keys()) == {"total", "variables"}
    assert listed["total"] == 2
    assert [v["$id"] for v in listed["variables"]] == [first["$id"], second["$id"]]
    assert listed["variables"][0] == first
    assert listed["variables"][1] == second

    assert functions.get_variable(fid, first["$id"]) == first
    assert_last(200)

    # the function model shows the variables with plaintext values
    with_vars = functions.get(fid)
    assert_function_model(with_vars)
    assert with_vars["vars"] == [first, second]

    # update key and value
    updated = functions.update_variable(fid, first["$id"], "APP_TEST_RENAMED", "NEWVALUE")
    assert_last(200)
    assert_variable_model(updated)
    assert updated["$id"] == first["$id"]
    assert updated["key"] == "APP_TEST_RENAMED"
    assert updated["value"] == "NEWVALUE"
    assert updated["functionId"] == fid
    assert updated["$createdAt"] == first["$createdAt"]
    assert functions.get_variable(fid, first["$id"]) == updated

    # update the key only: Python sends "value": null, the value is kept
    key_only = functions.update_variable(fid, first["$id"], "APP_TEST_KEY_ONLY")
    assert key_only["key"] == "APP_TEST_KEY_ONLY"
    assert key_only["value"] == "NEWVALUE"
    assert functions.get_variable(fid, first["$id"])["value"] == "NEWVALUE"

    # renaming onto an existing key
    expect_error(
        lambda: functions.update_variable(fid, first["$id"], "SECOND_KEY", "x"), 409, "variable_already_exists"
    )

    vars_now = {v["key"]: v["value"] for v in functions.get(fid)["vars"]}
    assert vars_now == {"APP_TEST_KEY_ONLY": "NEWVALUE", "SECOND_KEY": "second value"}

    # the old key is free again
    reused = functions.create_variable(fid, "APP_TEST", "again")
    assert reused["key"] == "APP_TEST"

    for var in (first, second, reused):
        assert functions.delete_variable(fid, var["$id"]) == b""
        assert_last(204)
    expect_error(lambda: functions.get_variable(fid, first["$id"]), 404, "variable_not_found")
    expect_error(lambda: functions.delete_variable(fid, first["$id"]), 404, "variable_not_found")
    assert functions.list_variables(fid) == {"total": 0, "variables": []}
    assert functions.get(fid)["vars"] == []


def test_same_key_on_two_functions(functions, make_function):
    one = make_function()
    two = make_function()
    a = functions.create_variable(one["$id"], "SHARED", "one")
    b = functions.create_variable(two["$id"], "SHARED", "two")
    assert a["$id"] != b["$id"]
    assert functions.list_variables(one["$id"])["variables"] == [a]
    assert functions.list_variables(two["$id"])["variables"] == [b]
    # a variable is not reachable through another function
    expect_error(lambda: functions.get_variable(two["$id"], a["$id"]), 404, "variable_not_found")
    expect_error(lambda: functions.update_variable(two["$id"], a["$id"], "X", "y"), 404, "variable_not_found")
    expect_error(lambda: functions.delete_variable(two["$id"], a["$id"]), 404, "variable_not_found")
    assert functions.get_variable(one["$id"], a["$id"]) == a


def test_values_round_trip(functions, make_function):
    fid = make_function()["$id"]
    samples = {
        "UNICODE": "êä ü 漢字 💡",
        "JSON_LIKE": '{"a": [1, 2], "b": "c\\"d"}',
        "MULTILINE": "line1\nline2\ttab",
        "MAX_VALUE": "v" * 8192,
        "K" * 255: "max key",
    }
    made = {key: functions.create_variable(fid, key, value) for key, value in samples.items()}
    for key, value in samples.items():
        assert made[key]["key"] == key
        assert made[key]["value"] == value
        assert functions.get_variable(fid, made[key]["$id"])["value"] == value
    assert {v["key"]: v["value"] for v in functions.get(fid)["vars"]} == samples


def test_variable_validation(functions, make_function):
    fid = make_function()["$id"]
    expect_error(lambda: functions.create_variable(fid, "K" * 256, "v"), 400, "general_argument_invalid")
    expect_error(lambda: functions.create_variable(fid, "BIG", "v" * 8193), 400, "general_argument_invalid")
    expect_error(lambda: functions.create_variable(fid, "EMPTY", ""), 400, "general_argument_invalid")
    expect_error(lambda: functions.create_variable(fid, "", "value"), 400, "general_argument_invalid")
    assert functions.list_variables(fid)["total"] == 0

    var = functions.create_variable(fid, "OK", "fine")
    expect_error(lambda: functions.update_variable(fid, var["$id"], "K" * 256, "v"), 400, "general_argument_invalid")
    expect_error(lambda: functions.update_variable(fid, var["$id"], "OK", "v" * 8193), 400, "general_argument_invalid")
    expect_error(lambda: functions.update_variable(fid, var["$id"], "", "v"), 400, "general_argument_invalid")
    assert functions.get_variable(fid, var["$id"]) == var


def test_variables_of_unknown_function_are_404(functions):
    missing = f"missing{uid()}"
    expect_error(lambda: functions.create_variable(missing, "K", "v"), 404, "function_not_found")
    expect_error(lambda: functions.list_variables(missing), 404, "function_not_found")
    expect_error(lambda: functions.get_variable(missing, "anything"), 404, "function_not_found")
    expect_error(lambda: functions.update_variable(missing, "anything", "K", "v"), 404, "function_not_found")
    expect_error(lambda: functions.delete_variable(missing, "anything"), 404, "function_not_found")


def test_unknown_variable_is_404(functions, make_function):
    fid = make_function()["$id"]
    expect_error(lambda: functions.get_variable(fid, "NON_EXISTING_VARIABLE"), 404, "variable_not_found")
    expect_error(lambda: functions.update_variable(fid, "NON_EXISTING_VARIABLE", "K", "v"), 404, "variable_not_found")
    expect_error(lambda: functions.delete_variable(fid, "NON_EXISTING_VARIABLE"), 404, "variable_not_found")


def test_deleting_the_function_removes_its_variables(functions, make_function):
    fn = make_function()
    var = functions.create_variable(fn["$id"], "GONE", "soon")
    functions.delete(fn["$id"])
    expect_error(lambda: functions.list_variables(fn["$id"]), 404, "function_not_found")
    expect_error(lambda: functions.get_variable(fn["$id"], var["$id"]), 404, "function_not_found")
    # a new function with the same id starts without variables
    again = functions.create(fn["$id"], "again", [], fn["runtime"])
    try:
        assert again["vars"] == []
        assert functions.list_variables(fn["$id"]) == {"total": 0, "variables": []}
    finally:
        functions.delete(fn["$id"])
