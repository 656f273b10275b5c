"""Functions CRUD, listing/queries/search and runtimes through the Python SDK 1.1.0."""

import time
from datetime import datetime, timedelta, timezone

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.role import Role

from support import (
    GENERATED_ID_RE,
    NODE_RUNTIME,
    PYTHON_RUNTIME,
    RUNTIME_FIELDS,
    assert_function_model,
    assert_last,
    assert_recent,
    expect_error,
    parse_datetime,
    uid,
)

NEW_YEAR = "0 0 1 1 *"


def assert_next_new_year(text):
    """`scheduleNext` of `0 0 1 1 *`: the coming Jan 1st, 00:00:00.000 UTC."""
    moment = parse_datetime(text)
    now = datetime.now(timezone.utc)
    assert moment > now, f"scheduleNext {text} is not in the future"
    assert moment - now <= timedelta(days=366), f"scheduleNext {text} is too far away"
    assert (moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond) == (
        1, 1, 0, 0, 0, 0,
    ), f"scheduleNext {text} is not Jan 1st 00:00"
    assert moment.utcoffset() == timedelta(0)


def ids(page):
    return [fn["$id"] for fn in page["functions"]]


# --- create / get ---------------------------------------------------------------------------


def test_create_with_generated_id_and_schedule(functions, make_function):
    name = f"Test {uid()}"
    fn = make_function(
        name=name,
        function_id=ID.unique(),
        execute=[Role.any(), Role.user("someuser")],
        runtime=NODE_RUNTIME,
        events=["users.*.create", "users.*.delete"],
        schedule=NEW_YEAR,
        timeout=10,
    )
    assert_last(201)
    assert_function_model(fn)
    assert len(fn["$id"]) == 20
    assert GENERATED_ID_RE.match(fn["$id"]), f"generated id {fn['$id']!r} is not 20 hex chars"
    assert fn["name"] == name
    assert fn["runtime"] == NODE_RUNTIME
    assert fn["execute"] == ["any", "user:someuser"]
    assert fn["events"] == ["users.*.create", "users.*.delete"]
    assert fn["schedule"] == NEW_YEAR
    assert fn["timeout"] == 10
    assert fn["enabled"] is True
    assert fn["deployment"] == ""
    assert fn["vars"] == []
    created_at = assert_recent(fn["$createdAt"])
    assert parse_datetime(fn["$updatedAt"]) >= created_at
    assert_next_new_year(fn["scheduleNext"])
    assert fn["schedulePrevious"] == ""

    fetched = functions.get(fn["$id"])
    assert_last(200)
    assert_function_model(fetched)
    assert fetched == fn

    # the generated id is searchable
    found = functions.list(search=fn["$id"])
    assert_last(200)
    assert found["total"] == 1
    assert ids(found) == [fn["$id"]]


def test_create_with_custom_id_uses_defaults(functions, make_function):
    custom = f"fn.cust_om-{uid()}"
    name = f"Custom {uid()}"
    fn = make_function(name=name, function_id=ID.custom(custom), runtime=PYTHON_RUNTIME)
    assert_last(201)
    assert_function_model(fn)
    assert fn["$id"] == custom
    assert fn["name"] == name
    assert fn["runtime"] == PYTHON_RUNTIME
    assert fn["execute"] == []
    assert fn["events"] == []
    assert fn["schedule"] == ""
    assert fn["scheduleNext"] == ""
    assert fn["schedulePrevious"] == ""
    assert fn["timeout"] == 15
    assert fn["enabled"] is True
    assert fn["deployment"] == ""
    assert fn["vars"] == []

    fetched = functions.get(custom)
    assert fetched == fn


def test_create_disabled_and_name_of_128_chars(functions, make_function):
    name = ("n" + uid() * 20)[:128]
    fn = make_function(name=name, enabled=False, timeout=900)
    assert fn["name"] == name
    assert fn["enabled"] is False
    assert fn["timeout"] == 900
    assert functions.get(fn["$id"])["enabled"] is False


def test_create_same_custom_id_twice_is_409(functions, make_function):
    custom = f"dup{uid()}"
    first = make_function(function_id=custom, name="first")
    err = expect_error(
        lambda: functions.create(custom, "second", [], NODE_RUNTIME), 409, "function_already_exists"
    )
    assert err.message
    # the original is untouched
    assert functions.get(custom)["name"] == first["name"] == "first"


@pytest.mark.parametrize(
    "label,kwargs",
    [
        ("bad runtime", {"runtime": "cobol-1.0"}),
        ("runtime of another version", {"runtime": "node-0.1"}),
        ("invalid execute role", {"execute": ["some-random-string"]}),
        ("legacy execute role", {"execute": ["role:all"]}),
        ("name longer than 128", {"name": "x" * 129}),
        ("timeout zero", {"timeout": 0}),
        ("schedule not a cron", {"schedule": "every day"}),
        ("schedule with six fields", {"schedule": "0 0 1 1 * *"}),
    ],
)
def test_create_invalid_arguments_are_400(functions, label, kwargs):
    custom = f"bad{uid()}"
    args = {"name": f"bad {uid()}", "execute": [], "runtime": NODE_RUNTIME}
    args.update(kwargs)
    name, execute, runtime = args.pop("name"), args.pop("execute"), args.pop("runtime")
    try:
        expect_error(
            lambda: functions.create(custom, name, execute, runtime, **args),
            400,
            "general_argument_invalid",
        )
    finally:
        # nothing was stored
        try:
            functions.delete(custom)
            pytest.fail(f"{label}: the rejected function {custom} was stored")
        except AppwriteException as err:
            assert err.code == 404


@pytest.mark.parametrize("bad_id", ["_leading", "-leading", "a" * 37, "with space", "bad$id"])
def test_create_with_invalid_custom_id_is_400(functions, bad_id):
    expect_error(lambda: functions.create(bad_id, "bad id", [], NODE_RUNTIME), 400, "general_argument_invalid")


def test_get_unknown_function_is_404(functions):
    err = expect_error(lambda: functions.get(f"missing{uid()}"), 404, "function_not_found")
    assert err.message


def test_bad_path_id_is_400(functions):
    too_long = "a" * 40
    expect_error(lambda: functions.get(too_long), 400, "general_argument_invalid")
    expect_error(lambda: functions.update(too_long, "x", []), 400, "general_argument_invalid")
    expect_error(lambda: functions.delete(too_long), 400, "general_argument_invalid")
    expect_error(lambda: functions.list_variables(too_long), 400, "general_argument_invalid")


# --- update / delete ------------------------------------------------------------------------


def test_update_with_all_fields(functions, make_function):
    fn = make_function(name=f"before {uid()}")
    time.sleep(0.01)
    new_name = f"after {uid()}"
    updated = functions.update(
        fn["$id"],
        new_name,
        [Role.users(), Role.team("team1", "owner")],
        events=["users.*.update.name", "users.*.update.email"],
        schedule=NEW_YEAR,
        timeout=5,
        enabled=False,
    )
    assert_last(200)
    assert_function_model(updated)
    assert updated["$id"] == fn["$id"]
    assert updated["name"] == new_name
    assert updated["execute"] == ["users", "team:team1/owner"]
    assert updated["events"] == ["users.*.update.name", "users.*.update.email"]
    assert updated["schedule"] == NEW_YEAR
    assert_next_new_year(updated["scheduleNext"])
    assert updated["schedulePrevious"] == ""
    assert updated["timeout"] == 5
    assert updated["enabled"] is False
    assert updated["runtime"] == fn["runtime"]
    assert updated["deployment"] == ""
    assert updated["$createdAt"] == fn["$createdAt"]
    assert parse_datetime(updated["$updatedAt"]) > parse_datetime(fn["$updatedAt"])
    assert functions.get(fn["$id"]) == updated


def test_update_replaces_omitted_fields_with_defaults(functions, make_function):
    fn = make_function(
        name=f"full {uid()}",
        execute=[Role.any()],
        events=["users.*.create"],
        schedule=NEW_YEAR,
        timeout=42,
        enabled=False,
    )
    assert fn["scheduleNext"] != ""
    new_name = f"bare {uid()}"
    # Python 1.1.0 sends events/schedule/timeout/enabled as JSON null: the server must use the defaults
    updated = functions.update(fn["$id"], new_name, [])
    assert_function_model(updated)
    assert updated["name"] == new_name
    assert updated["execute"] == []
    assert updated["events"] == []
    assert updated["schedule"] == ""
    assert updated["scheduleNext"] == ""
    assert updated["timeout"] == 15
    assert updated["enabled"] is True
    assert updated["runtime"] == NODE_RUNTIME
    assert functions.get(fn["$id"]) == updated


def test_update_errors(functions, make_function):
    fn = make_function()
    expect_error(lambda: functions.update(f"missing{uid()}", "x", []), 404, "function_not_found")
    expect_error(lambda: functions.update(fn["$id"], "y" * 129, []), 400, "general_argument_invalid")
    expect_error(
        lambda: functions.update(fn["$id"], "ok", ["some-random-string"]), 400, "general_argument_invalid"
    )
    expect_error(lambda: functions.update(fn["$id"], "ok", [], timeout=0), 400, "general_argument_invalid")
    expect_error(
        lambda: functions.update(fn["$id"], "ok", [], schedule="not cron"), 400, "general_argument_invalid"
    )
    # failed updates changed nothing
    assert functions.get(fn["$id"]) == fn


def test_delete(functions, make_function):
    fn = make_function()
    assert functions.delete(fn["$id"]) == b""
    assert_last(204)
    expect_error(lambda: functions.get(fn["$id"]), 404, "function_not_found")
    expect_error(lambda: functions.delete(fn["$id"]), 404, "function_not_found")
    assert functions.list(search=fn["$id"])["total"] == 0


# --- list -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trio(functions):
    """Three functions created in the order charlie, alpha, bravo (alpha disabled, python)."""
    token = uid()
    specs = [
        (f"lc{token}", f"charlie{token}", NODE_RUNTIME, True),
        (f"la{token}", f"alpha{token}", PYTHON_RUNTIME, False),
        (f"lb{token}", f"bravo{token}", NODE_RUNTIME, True),
    ]
    made = []
    try:
        for function_id, name, runtime, enabled in specs:
            made.append(functions.create(function_id, name, [], runtime, enabled=enabled))
            time.sleep(0.02)  # distinct $createdAt values for the ordering checks
        yield {
            "charlie": made[0],
            "alpha": made[1],
            "bravo": made[2],
            "names": [m["name"] for m in made],
        }
    finally:
        for fn in made:
            try:
                functions.delete(fn["$id"])
            except AppwriteException:
                pass


def by_names(trio):
    return Query.equal("name", trio["names"])


def test_list_plain(functions, trio):
    page = functions.list()
    assert isinstance(page["total"], int)
    assert page["total"] >= 3
    assert len(page["functions"]) == min(page["total"], 25)
    for fn in page["functions"]:
        assert_function_model(fn)
    listed_ids = ids(page)
    assert len(set(listed_ids)) == len(listed_ids)
    if page["total"] <= 25:
        for key in ("charlie", "alpha", "bravo"):
            assert trio[key]["$id"] in listed_ids
        # default order is creation order
        positions = [listed_ids.index(trio[key]["$id"]) for key in ("charlie", "alpha", "bravo")]
        assert positions == sorted(positions)


def test_list_equal_name(functions, trio):
    c, a, b = trio["charlie"], trio["alpha"], trio["bravo"]
    page = functions.list([by_names(trio)])
    assert page["total"] == 3
    assert ids(page) == [c["$id"], a["$id"], b["$id"]]
    for fn in page["functions"]:
        assert_function_model(fn)
    assert page["functions"][1] == functions.get(a["$id"])

    single = functions.list([Query.equal("name", [b["name"]])])
    assert single["total"] == 1
    assert ids(single) == [b["$id"]]

    none = functions.list([Query.equal("name", [f"nothing{uid()}"])])
    assert none == {"total": 0, "functions": []}


def test_list_equal_enabled(functions, trio):
    c, a, b = trio["charlie"], trio["alpha"], trio["bravo"]
    enabled = functions.list([by_names(trio), Query.equal("enabled", [True])])
    assert enabled["total"] == 2
    assert ids(enabled) == [c["$id"], b["$id"]]
    assert all(fn["enabled"] is True for fn in enabled["functions"])

    disabled = functions.list([by_names(trio), Query.equal("enabled", [False])])
    assert disabled["total"] == 1
    assert ids(disabled) == [a["$id"]]
    assert disabled["functions"][0]["enabled"] is False


def test_list_limit_and_offset(functions, trio):
    c, a, b = trio["charlie"], trio["alpha"], trio["bravo"]
    zero = functions.list([by_names(trio), Query.limit(0)])
    assert zero["total"] == 3  # total counts the filters only
    assert zero["functions"] == []

    one = functions.list([by_names(trio), Query.limit(1)])
    assert one["total"] == 3
    assert ids(one) == [c["$id"]]

    skipped = functions.list([by_names(trio), Query.offset(1)])
    assert skipped["total"] == 3
    assert ids(skipped) == [a["$id"], b["$id"]]

    window = functions.list([by_names(trio), Query.offset(1), Query.limit(1)])
    assert ids(window) == [a["$id"]]

    past_end = functions.list([by_names(trio), Query.offset(3)])
    assert past_end["total"] == 3
    assert past_end["functions"] == []


def test_list_cursors(functions, trio):
    c, a, b = trio["charlie"], trio["alpha"], trio["bravo"]
    after_first = functions.list([by_names(trio), Query.cursorAfter(c["$id"])])
    assert after_first["total"] == 3
    assert ids(after_first) == [a["$id"], b["$id"]]

    after_first_one = functions.list([by_names(trio), Query.cursorAfter(c["$id"]), Query.limit(1)])
    assert ids(after_first_one) == [a["$id"]]

    after_last = functions.list([by_names(trio), Query.cursorAfter(b["$id"])])
    assert after_last["functions"] == []

    before_last = functions.list([by_names(trio), Query.cursorBefore(b["$id"])])
    assert before_last["total"] == 3
    assert ids(before_last) == [c["$id"], a["$id"]]

    before_last_one = functions.list([by_names(trio), Query.cursorBefore(b["$id"]), Query.limit(1)])
    assert ids(before_last_one) == [a["$id"]]

    before_first = functions.list([by_names(trio), Query.cursorBefore(c["$id"])])
    assert before_first["functions"] == []


def test_list_order(functions, trio):
    c, a, b = trio["charlie"], trio["alpha"], trio["bravo"]
    newest_first = functions.list([by_names(trio), Query.orderDesc("$createdAt")])
    assert newest_first["total"] == 3
    assert ids(newest_first) == [b["$id"], a["$id"], c["$id"]]

    by_name = functions.list([by_names(trio), Query.orderAsc("name")])
    assert ids(by_name) == [a["$id"], b["$id"], c["$id"]]

    by_name_desc = functions.list([by_names(trio), Query.orderDesc("name")])
    assert ids(by_name_desc) == [c["$id"], b["$id"], a["$id"]]

    oldest_first = functions.list([by_names(trio), Query.orderAsc("$createdAt"), Query.limit(2)])
    assert ids(oldest_first) == [c["$id"], a["$id"]]


def test_list_search(functions, trio):
    c, a, b = trio["charlie"], trio["alpha"], trio["bravo"]
    by_id = functions.list(search=a["$id"])
    assert by_id["total"] == 1
    assert ids(by_id) == [a["$id"]]

    by_name = functions.list(search=b["name"])
    assert by_name["total"] == 1
    assert ids(by_name) == [b["$id"]]

    python = functions.list([by_names(trio)], search=PYTHON_RUNTIME)
    assert python["total"] == 1
    assert ids(python) == [a["$id"]]

    node = functions.list([by_names(trio)], search=NODE_RUNTIME)
    assert node["total"] == 2
    assert ids(node) == [c["$id"], b["$id"]]
    assert all(fn["runtime"] == NODE_RUNTIME for fn in node["functions"])

    nothing = functions.list(search=f"zz{uid()}")
    assert nothing == {"total": 0, "functions": []}


@pytest.mark.parametrize(
    "query",
    [
        "this is not a query",
        'equal("name", ["x"]',
        'contains("name", ["x"])',
        'name.equal("x")',
        Query.equal("unknownAttribute", ["x"]),
        Query.orderAsc("unknownAttribute"),
        Query.equal("enabled", ["yes"]),
        Query.limit(101),
        Query.limit(-1),
    ],
)
def test_list_invalid_query_is_400(functions, query):
    expect_error(lambda: functions.list([query]), 400, "general_argument_invalid")


def test_list_cursor_not_found_is_400(functions):
    err = expect_error(
        lambda: functions.list([Query.cursorAfter("unknown")]), 400, "general_cursor_not_found"
    )
    assert err.message
    expect_error(lambda: functions.list([Query.cursorBefore(f"gone{uid()}")]), 400, "general_cursor_not_found")


# --- runtimes -------------------------------------------------------------------------------


def test_list_runtimes(functions):
    page = functions.list_runtimes()
    assert_last(200)
    assert set(page.keys()) == {"total", "runtimes"}
    assert page["total"] > 0
    assert page["total"] == len(page["runtimes"])
    by_id = {}
    for runtime in page["runtimes"]:
        assert set(runtime.keys()) == RUNTIME_FIELDS, f"runtime fields: {sorted(runtime.keys())}"
        for field in ("$id", "name", "version", "base", "image", "logo"):
            assert isinstance(runtime[field], str), f"{field} of {runtime['$id']}"
        assert isinstance(runtime["supports"], list)
        assert all(isinstance(arch, str) for arch in runtime["supports"])
        by_id[runtime["$id"]] = runtime
    assert len(by_id) == len(page["runtimes"]), "runtime ids are not unique"
    assert NODE_RUNTIME in by_id
    assert PYTHON_RUNTIME in by_id
    assert by_id[NODE_RUNTIME]["version"] == "20.0"
    assert by_id[NODE_RUNTIME]["name"] == "Node.js"
    assert by_id[PYTHON_RUNTIME]["version"] == "3.11"
    assert by_id[PYTHON_RUNTIME]["name"] == "Python"
    for runtime_id, runtime in by_id.items():
        assert runtime_id == f"{runtime_id.rsplit('-', 1)[0]}-{runtime['version']}"


def test_every_listed_runtime_can_create_a_function(functions, make_function):
    for runtime in functions.list_runtimes()["runtimes"]:
        fn = make_function(runtime=runtime["$id"])
        assert fn["runtime"] == runtime["$id"]
