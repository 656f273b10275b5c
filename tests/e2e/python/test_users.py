"""JWT users, execute roles, the origin check and the rate limit through the Python SDK 1.1.0.

Tokens are minted here with the standard library only (HS256 over the secret run.sh gave the
server, exported as FUNCTIOND_JWT_SECRET), as any identity service could; one test mints
through `functiond jwt create` instead. The client authenticates with `client.set_jwt`."""

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests
from appwrite.client import Client
from appwrite.services.functions import Functions

from support import (
    ALL_SCOPES,
    NODE_ENTRYPOINT,
    assert_execution_model,
    assert_last,
    deploy,
    env,
    expect_error,
    function_files,
    response_json,
    uid,
    wait_for_execution,
    write_targz,
)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(user_id, *, ttl=900, secret=None, **claims):
    """An HS256 JWT naming `user_id` (Appwrite's `userId` claim), with extra claims."""
    secret = (secret or env("FUNCTIOND_JWT_SECRET")).encode()
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = {"userId": user_id, "exp": int(time.time()) + ttl, **claims}
    payload = _b64(json.dumps(body).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def client_for(project_id, jwt=None, origin=None):
    client = Client()
    client.set_endpoint(env("FUNCTIOND_ENDPOINT"))
    client.set_project(project_id)
    if jwt is not None:
        client.set_jwt(jwt)
    if origin is not None:
        client.add_header("origin", origin)
    return Functions(client)


@pytest.fixture(scope="module")
def who(functions, make_module_function, archive_dir):
    """The node test function, deployed; its `execute` is set per test."""
    fn = make_module_function(name=f"users {uid()}", execute=["users"])
    path = write_targz(archive_dir / f"users-{uid()}.tar.gz", function_files("node", package_json=False))
    _, built = deploy(functions, fn["$id"], NODE_ENTRYPOINT, path, True, timeout=120)
    assert built["status"] == "ready", built["buildStderr"]
    return fn


def set_execute(functions, fn, execute):
    functions.update(fn["$id"], fn["name"], execute)


def test_a_user_runs_and_reads_back_only_their_own(functions, project_id, who):
    set_execute(functions, who, ["users"])
    alice, bob = f"alice{uid()}", f"bob{uid()}"
    as_alice = client_for(project_id, mint(alice))
    as_bob = client_for(project_id, mint(bob))

    ran = as_alice.create_execution(who["$id"], data="hello")
    assert_last(201)
    assert_execution_model(ran)
    assert ran["$permissions"] == [f'read("user:{alice}")']
    assert ran["status"] == "completed", ran
    assert ran["stdout"] == "" and ran["stderr"] == ""
    env_seen = response_json(ran)["env"]
    assert env_seen["APPWRITE_FUNCTION_USER_ID"] == alice
    assert env_seen["APPWRITE_FUNCTION_JWT"] == ""

    # Async: the worker runs it for the same user.
    queued = as_bob.create_execution(who["$id"], data="later", xasync=True)
    assert_last(202)
    done = wait_for_execution(functions, who["$id"], queued["$id"])
    assert response_json(done)["env"]["APPWRITE_FUNCTION_USER_ID"] == bob
    assert done["stdout"], "the key sees the logs"

    mine = as_alice.list_executions(who["$id"])
    assert mine["total"] == 1
    assert [ex["$id"] for ex in mine["executions"]] == [ran["$id"]]
    assert mine["executions"][0]["stdout"] == ""
    assert as_alice.get_execution(who["$id"], ran["$id"])["$id"] == ran["$id"]
    expect_error(lambda: as_bob.get_execution(who["$id"], ran["$id"]), 404, "execution_not_found")
    assert as_bob.list_executions(who["$id"], search=ran["$id"])["total"] == 0
    everything = functions.list_executions(who["$id"])
    assert {ran["$id"], queued["$id"]} <= {ex["$id"] for ex in everything["executions"]}

    # Users hold execution scopes only.
    expect_error(lambda: as_alice.list(), 401, "general_unauthorized_scope")
    expect_error(lambda: as_alice.get(who["$id"]), 401, "general_unauthorized_scope")


def test_execute_roles_choose_who_may_run(functions, project_id, who):
    carol = f"carol{uid()}"
    team = f"team{uid()}"
    as_carol = client_for(project_id, mint(carol, emailVerification=True))
    as_member = client_for(
        project_id, mint(f"dan{uid()}", memberships=[{"teamId": team, "roles": ["owner"], "membershipId": "m1"}])
    )
    guest = client_for(project_id)

    set_execute(functions, who, [f"user:{carol}"])
    assert as_carol.create_execution(who["$id"])["status"] == "completed"
    expect_error(lambda: as_member.create_execution(who["$id"]), 401, "user_unauthorized")
    expect_error(lambda: guest.create_execution(who["$id"]), 401, "user_unauthorized")

    set_execute(functions, who, [f"team:{team}/owner"])
    assert as_member.create_execution(who["$id"])["status"] == "completed"
    expect_error(lambda: as_carol.create_execution(who["$id"]), 401, "user_unauthorized")

    set_execute(functions, who, ["users/verified"])
    assert as_carol.create_execution(who["$id"])["status"] == "completed"
    expect_error(lambda: as_member.create_execution(who["$id"]), 401, "user_unauthorized")

    set_execute(functions, who, ["guests"])
    ran = guest.create_execution(who["$id"])
    assert ran["$permissions"] == [] and ran["stdout"] == ""
    expect_error(lambda: guest.list_executions(who["$id"]), 401, "general_unauthorized_scope")
    expect_error(lambda: as_carol.create_execution(who["$id"]), 401, "user_unauthorized")

    # No execute roles: only keys.
    set_execute(functions, who, [])
    expect_error(lambda: as_carol.create_execution(who["$id"]), 401, "user_unauthorized")
    assert functions.create_execution(who["$id"])["status"] == "completed"


def test_bad_and_expired_jwts_are_401(project_id, who):
    for token in (
        mint("eve", ttl=-60),  # expired a minute ago, past the 10 s leeway
        mint("eve", secret="not the server's secret"),
        "not.a.jwt",
    ):
        err = expect_error(
            lambda t=token: client_for(project_id, t).create_execution(who["$id"]), 401, "user_jwt_invalid"
        )
        assert err.message.startswith("Failed to verify JWT. ")
    # Inside the leeway is still fine.
    assert client_for(project_id, mint(f"late{uid()}", ttl=-5)).list_executions(who["$id"])["total"] == 0


def test_the_cli_mints_tokens_the_server_accepts(cli, functions, project_id, who):
    set_execute(functions, who, ["users/verified"])
    user = f"cli{uid()}"
    token = cli.run("jwt", "create", "--user", user, "--verified", "--project", project_id).strip().splitlines()[-1]
    ran = client_for(project_id, token).create_execution(who["$id"])
    assert response_json(ran)["env"]["APPWRITE_FUNCTION_USER_ID"] == user
    # Bound to its project.
    other = cli.create_project(name="jwt elsewhere")
    expect_error(lambda: client_for(other, token).list_executions(who["$id"]), 401, "user_jwt_invalid")


def test_keyless_writes_need_an_allowed_origin(functions, project_id, who):
    set_execute(functions, who, ["any"])
    user = mint(f"web{uid()}")
    for jwt in (None, user):
        err = expect_error(
            lambda j=jwt: client_for(project_id, j, origin="https://evil.example").create_execution(who["$id"]),
            403,
            "general_unknown_origin",
        )
        assert "evil.example" in err.message
        allowed = client_for(project_id, jwt, origin=env("E2E_ALLOWED_ORIGIN"))
        assert allowed.create_execution(who["$id"])["status"] == "completed"
    # Reads are not origin-checked; keys never are.
    assert client_for(project_id, user, origin="https://evil.example").list_executions(who["$id"])["total"] >= 1
    keyed = Client().set_endpoint(env("FUNCTIOND_ENDPOINT")).set_project(project_id).set_key(env("FUNCTIOND_KEY"))
    keyed.add_header("origin", "https://evil.example")
    assert Functions(keyed).create_execution(who["$id"])["status"] == "completed"


def _headers():
    last = requests.request.last
    return {name: last.headers.get(f"X-RateLimit-{name}") for name in ("Limit", "Remaining", "Reset")}


def test_create_execution_is_limited_to_60_a_minute(cli):
    # A project of its own: the counters are per project, IP and user, so no other test's
    # calls count here (and these do not starve them).
    project = cli.create_project(name="rate limit")
    key = cli.create_key(project, ALL_SCOPES)
    keyed = Functions(Client().set_endpoint(env("FUNCTIOND_ENDPOINT")).set_project(project).set_key(key))
    fn = keyed.create("unique()", "limited", ["any"], "node-20.0")
    # Keep all 61 calls in one fixed 60-second window.
    if 60 - time.time() % 60 < 15:
        time.sleep(60 - time.time() % 60 + 0.5)
    guest = client_for(project)
    for expected in range(59, -1, -1):
        # No deployment: every call is a 404, and each still counts.
        expect_error(lambda: guest.create_execution(fn["$id"]), 404, "deployment_not_found")
        headers = _headers()
        assert headers["Limit"] == "60" and headers["Remaining"] == str(expected), headers
        assert int(headers["Reset"]) % 60 == 0 and int(headers["Reset"]) > time.time()
    expect_error(lambda: guest.create_execution(fn["$id"]), 429, "general_rate_limit_exceeded")
    assert _headers()["Remaining"] == "0"
    # A user has a bucket of their own; a key is never limited, though it sees the guests'.
    user = client_for(project, mint(f"rl{uid()}"))
    expect_error(lambda: user.create_execution(fn["$id"]), 404, "deployment_not_found")
    assert _headers()["Remaining"] == "59"
    expect_error(lambda: keyed.create_execution(fn["$id"]), 404, "deployment_not_found")
    assert _headers()["Remaining"] == "0"
    # Only Create Execution is limited.
    keyed.list_executions(fn["$id"])
    assert _headers()["Limit"] is None
    keyed.delete(fn["$id"])
