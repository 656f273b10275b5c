"""Shared fixtures for the functiond end-to-end tests driven by the Python SDK (appwrite 1.1.0).

The suite talks to a running functiond started by ../run.sh, which exports:
FUNCTIOND_ENDPOINT, FUNCTIOND_PROJECT, FUNCTIOND_KEY, FUNCTIOND_BIN, FUNCTIOND_DATA_DIR.
Every test builds its own uniquely named resources, because all tests share one server.
"""

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from support import NODE_RUNTIME, Cli, env, make_client, uid


@pytest.fixture(scope="session")
def endpoint():
    return env("FUNCTIOND_ENDPOINT")


@pytest.fixture(scope="session")
def project_id():
    return env("FUNCTIOND_PROJECT")


@pytest.fixture(scope="session")
def api_key():
    return env("FUNCTIOND_KEY")


@pytest.fixture(scope="session")
def client(project_id, api_key):
    return make_client(project_id, api_key)


@pytest.fixture(scope="session")
def functions(client):
    return Functions(client)


@pytest.fixture(scope="session")
def cli():
    return Cli(env("FUNCTIOND_BIN"), env("FUNCTIOND_DATA_DIR"))


@pytest.fixture
def created(functions):
    """Records function ids to delete after the test (already deleted ones are ignored)."""
    ids = []
    yield ids
    for function_id in ids:
        try:
            functions.delete(function_id)
        except AppwriteException:
            pass


@pytest.fixture
def make_function(functions, created):
    """Create a function through the SDK (defaults: unique id, node runtime, no execute)."""

    def make(name=None, function_id="unique()", execute=None, runtime=NODE_RUNTIME, **kwargs):
        fn = functions.create(
            function_id, name or f"fn {uid()}", execute if execute is not None else [], runtime, **kwargs
        )
        created.append(fn["$id"])
        return fn

    return make


@pytest.fixture(scope="module")
def make_module_function(functions):
    """Like make_function, for module-scoped fixtures: deleted when the test module ends."""
    ids = []

    def make(name=None, function_id="unique()", execute=None, runtime=NODE_RUNTIME, **kwargs):
        fn = functions.create(
            function_id, name or f"fn {uid()}", execute if execute is not None else [], runtime, **kwargs
        )
        ids.append(fn["$id"])
        return fn

    yield make
    for function_id in ids:
        try:
            functions.delete(function_id)
        except AppwriteException:
            pass


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory):
    """A temp folder for the tar.gz archives a test module builds."""
    return tmp_path_factory.mktemp("archives")
