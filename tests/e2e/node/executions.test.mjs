// Executions through node-appwrite 8.1.0: sync and async on both runtimes, what the function
// receives, logs, status codes, thrown errors, timeouts, listing and the error cases.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  NODE_ENTRYPOINT,
  NODE_RUNTIME,
  PYTHON_ENTRYPOINT,
  PYTHON_RUNTIME,
  RUNTIME_NAMES,
  Tracker,
  assertExecutionModel,
  assertLast,
  assertRecent,
  deploy,
  env,
  expectError,
  functionFiles,
  lines,
  makeFunctions,
  makeTarGz,
  removeTempDirs,
  responseJson,
  sdk,
  uid,
  waitForExecution,
} from './support.mjs';

const { Query } = sdk;
const functions = makeFunctions();
const tracker = new Tracker(functions);
after(async () => {
  await tracker.cleanup();
  removeTempDirs();
});

const LANGS = { node: [NODE_RUNTIME, NODE_ENTRYPOINT], python: [PYTHON_RUNTIME, PYTHON_ENTRYPOINT] };
const exIds = (page) => page.executions.map((ex) => ex.$id);

/** A function of `lang` with a CUSTOM_VARIABLE and the test function deployed (activate=true). */
async function buildApp(lang, { timeout } = {}) {
  const [runtime, entrypoint] = LANGS[lang];
  const fn = await tracker.create({ name: `exec ${lang} êä ${uid()}`, runtime, timeout });
  const custom = `custom value êä ${uid()}`;
  await functions.createVariable(fn.$id, 'CUSTOM_VARIABLE', custom);
  // no package.json / requirements.txt here: the deployments suite covers the npm path and the
  // Python suite the pip one
  const archive = makeTarGz(functionFiles(lang, { packageJson: false }));
  const { built } = await deploy(functions, fn.$id, entrypoint, archive, true);
  assert.equal(built.status, 'ready', `${lang} build failed: ${built.buildStderr}`);
  return { lang, fn, deployment: built, custom };
}

function assertReceived(app, execution, data) {
  const [runtimeName, runtimeVersion] = RUNTIME_NAMES[app.fn.runtime];
  assert.equal(execution.statusCode, 200, JSON.stringify(execution));
  assert.ok(execution.response.includes('êä'), 'UTF-8 kept as is in the JSON text');
  const body = responseJson(execution);
  assert.equal(body.runtime, app.lang);
  assert.equal(body.payload, data);
  assert.equal(body.utf8, 'êä');
  assert.deepEqual(body.headers, {});
  assert.deepEqual(body.variables, {
    APPWRITE_FUNCTION_ID: app.fn.$id,
    APPWRITE_FUNCTION_NAME: app.fn.name,
    APPWRITE_FUNCTION_DEPLOYMENT: app.deployment.$id,
    APPWRITE_FUNCTION_PROJECT_ID: env('FUNCTIOND_PROJECT'),
    APPWRITE_FUNCTION_TRIGGER: 'http',
    APPWRITE_FUNCTION_RUNTIME_NAME: runtimeName,
    APPWRITE_FUNCTION_RUNTIME_VERSION: runtimeVersion,
    APPWRITE_FUNCTION_EVENT: '',
    APPWRITE_FUNCTION_EVENT_DATA: '',
    APPWRITE_FUNCTION_DATA: data,
    APPWRITE_FUNCTION_USER_ID: '',
    APPWRITE_FUNCTION_JWT: '',
    CUSTOM_VARIABLE: app.custom,
  });
  // the per-function values are in the process environment as well
  for (const key of ['APPWRITE_FUNCTION_ID', 'APPWRITE_FUNCTION_DEPLOYMENT', 'APPWRITE_FUNCTION_RUNTIME_NAME', 'CUSTOM_VARIABLE']) {
    assert.equal(body.env[key], body.variables[key], `process environment ${key}`);
  }
  return body;
}

const apps = {};
before(async () => {
  apps.node = await buildApp('node');
  apps.python = await buildApp('python');
});

for (const lang of ['node', 'python']) {
  describe(`${lang} runtime`, () => {
    test('sync execution', async () => {
      const app = apps[lang];
      const data = `{"hello": "wörld êä", "token": "${uid()}"}`;
      const started = Date.now();
      const execution = await functions.createExecution(app.fn.$id, data);
      const elapsed = (Date.now() - started) / 1000;
      assertLast(201);
      assertExecutionModel(execution);
      assertRecent(execution.$createdAt);
      assert.equal(execution.functionId, app.fn.$id);
      assert.equal(execution.trigger, 'http');
      assert.equal(execution.status, 'completed');
      assert.deepEqual(execution.$permissions, []);
      assertReceived(app, execution, data);
      assert.deepEqual(lines(execution.stdout), [`${lang} handler got ${data}`]);
      assert.equal(execution.stderr, '');
      assert.ok(execution.duration > 0 && execution.duration < elapsed + 0.5, `duration ${execution.duration}`);

      const fetched = await functions.getExecution(app.fn.$id, execution.$id);
      assertLast(200);
      assert.deepEqual(fetched, execution);
    });

    test('async execution', async () => {
      const app = apps[lang];
      const data = `async ${uid()} êä`;
      const accepted = await functions.createExecution(app.fn.$id, data, true);
      assertLast(202);
      assertExecutionModel(accepted);
      assert.equal(accepted.functionId, app.fn.$id);
      assert.equal(accepted.status, 'waiting');
      assert.equal(accepted.statusCode, 0);
      assert.equal(accepted.response, '');
      assert.equal(accepted.stdout, '');
      assert.equal(accepted.stderr, '');
      assert.equal(accepted.duration, 0);

      const done = await waitForExecution(functions, app.fn.$id, accepted.$id);
      assertExecutionModel(done);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.equal(done.$createdAt, accepted.$createdAt);
      assert.equal(done.trigger, 'http');
      assertReceived(app, done, data);
      assert.deepEqual(lines(done.stdout), [`${lang} handler got ${data}`]);
      assert.equal(done.stderr, '');
      assert.ok(done.duration > 0);
    });

    test('stderr is captured', async () => {
      const execution = await functions.createExecution(apps[lang].fn.$id, 'stderr');
      assert.equal(execution.status, 'completed', JSON.stringify(execution));
      assert.equal(execution.statusCode, 200);
      assert.deepEqual(lines(execution.stdout), [`${lang} handler got stderr`]);
      assert.deepEqual(lines(execution.stderr), [`${lang} handler wrote to stderr`]);
    });

    test("res.send(text, 404) is completed with statusCode 404", async () => {
      const execution = await functions.createExecution(apps[lang].fn.$id, 'notfound', false);
      assertLast(201);
      assert.equal(execution.status, 'completed');
      assert.equal(execution.statusCode, 404);
      assert.equal(execution.response, `${lang}: nothing here`);
      assert.equal(execution.stderr, '');
    });

    test('concurrent calls keep their own data, response and logs', async () => {
      const fnId = apps[lang].fn.$id;
      const tokens = [0, 1, 2, 3].map((i) => `slow:${i}-${uid()}`);
      const results = await Promise.all(tokens.map((data) => functions.createExecution(fnId, data)));
      results.forEach((execution, i) => {
        assert.equal(execution.status, 'completed', JSON.stringify(execution));
        assert.equal(responseJson(execution).payload, tokens[i]);
        assert.deepEqual(lines(execution.stdout), [`${lang} handler got ${tokens[i]}`]);
        assert.equal(execution.stderr, '');
      });
      assert.equal(new Set(results.map((ex) => ex.$id)).size, tokens.length);
    });

    for (const async of [false, true]) {
      test(`a thrown error fails with 500 (${async ? 'async' : 'sync'})`, async () => {
        const fnId = apps[lang].fn.$id;
        let execution = await functions.createExecution(fnId, 'throw', async);
        assertLast(async ? 202 : 201);
        if (async) execution = await waitForExecution(functions, fnId, execution.$id);
        assertExecutionModel(execution);
        assert.equal(execution.status, 'failed');
        assert.equal(execution.statusCode, 500);
        assert.equal(execution.response, '');
        assert.ok(execution.stderr.includes(`${lang} handler exploded on purpose`), execution.stderr);
        const next = await functions.createExecution(fnId, 'after the error');
        assert.equal(next.status, 'completed', JSON.stringify(next));
        assert.equal(responseJson(next).payload, 'after the error');
      });
    }
  });
}

describe('timeouts', () => {
  for (const [lang, async] of [['python', false], ['node', true]]) {
    test(`${lang}: a handler past the 2 s timeout fails, the next call works (${async ? 'async' : 'sync'})`, async () => {
      const app = await buildApp(lang, { timeout: 2 });
      const started = Date.now();
      let execution = await functions.createExecution(app.fn.$id, 'sleep', async);
      assertLast(async ? 202 : 201);
      if (async) execution = await waitForExecution(functions, app.fn.$id, execution.$id);
      const elapsed = (Date.now() - started) / 1000;
      assertExecutionModel(execution);
      assert.equal(execution.status, 'failed', JSON.stringify(execution));
      assert.equal(execution.statusCode, 500);
      assert.equal(execution.response, '');
      assert.match(execution.stderr, /timed out/i);
      assert.ok(execution.duration >= 1.9 && execution.duration < 4.5, `duration ${execution.duration}`);
      assert.ok(elapsed < 4.5, `the 5 s handler was not cut at the 2 s timeout (${elapsed} s)`);

      const next = await functions.createExecution(app.fn.$id, 'after the timeout');
      assert.equal(next.status, 'completed', JSON.stringify(next));
      assert.equal(next.statusCode, 200);
      assert.equal(responseJson(next).payload, 'after the timeout');
    });
  }
});

describe('list and get', () => {
  let app;
  let history;
  let ids;

  before(async () => {
    app = await buildApp('node');
    const fnId = app.fn.$id;
    const ok = await functions.createExecution(fnId, 'first');
    const missing = await functions.createExecution(fnId, 'notfound');
    const thrown = await functions.createExecution(fnId, 'throw');
    const queued = await functions.createExecution(fnId, 'fourth', true);
    const later = await waitForExecution(functions, fnId, queued.$id);
    history = [ok, missing, thrown, later];
    assert.deepEqual(history.map((ex) => ex.status), ['completed', 'completed', 'failed', 'completed']);
    ids = history.map((ex) => ex.$id);
  });

  test('list: creation order, same as get', async () => {
    const page = await functions.listExecutions(app.fn.$id);
    assertLast(200);
    assert.deepEqual(Object.keys(page), ['total', 'executions']);
    assert.equal(page.total, 4);
    assert.deepEqual(exIds(page), ids);
    for (const listed of page.executions) {
      assertExecutionModel(listed);
      assert.deepEqual(listed, await functions.getExecution(app.fn.$id, listed.$id));
    }
    assert.deepEqual(page.executions.map((ex) => ex.statusCode), [200, 404, 500, 200]);
    assert.deepEqual(lines(page.executions[0].stdout), ['node handler got first']);
  });

  test('list: queries and search', async () => {
    const query = async (queries, search) => {
      const page = await functions.listExecutions(app.fn.$id, queries, search);
      return [page.total, exIds(page)];
    };
    assert.deepEqual(await query([Query.equal('trigger', ['http'])]), [4, ids]);
    assert.deepEqual(await query([Query.equal('trigger', ['schedule'])]), [0, []]);
    assert.deepEqual(await query([Query.equal('status', ['completed'])]), [3, [ids[0], ids[1], ids[3]]]);
    assert.deepEqual(await query([Query.equal('status', ['failed'])]), [1, [ids[2]]]);
    assert.deepEqual(await query([Query.equal('statusCode', [404])]), [1, [ids[1]]]);
    assert.deepEqual(await query([Query.lessThan('statusCode', 300)]), [2, [ids[0], ids[3]]]);
    assert.deepEqual(await query([Query.limit(1)]), [4, ids.slice(0, 1)]);
    assert.deepEqual(await query([Query.offset(1)]), [4, ids.slice(1)]);
    assert.deepEqual(await query([Query.cursorAfter(ids[1])]), [4, ids.slice(2)]);
    assert.deepEqual(await query([Query.orderDesc('statusCode'), Query.limit(1)]), [4, [ids[2]]]);

    assert.deepEqual(await query(undefined, ids[3]), [1, [ids[3]]]);
    assert.deepEqual(await query(undefined, app.fn.$id), [4, ids]);
    assert.deepEqual(await query(undefined, `nomatch${uid()}`), [0, []]);

    await expectError(functions.listExecutions(app.fn.$id, [Query.equal('stdout', ['x'])]), 400, 'general_argument_invalid');
    await expectError(functions.listExecutions(app.fn.$id, [Query.cursorBefore(`missing${uid()}`)]), 400, 'general_cursor_not_found');
  });

  test('get: errors', async () => {
    await expectError(functions.getExecution(app.fn.$id, `missing${uid()}`), 404, 'execution_not_found');
    const other = await functions.createExecution(apps.node.fn.$id, 'other');
    await expectError(functions.getExecution(app.fn.$id, other.$id), 404, 'execution_not_found');
    await expectError(functions.getExecution(`missing${uid()}`, other.$id), 404, 'function_not_found');
    await expectError(functions.listExecutions(`missing${uid()}`), 404, 'function_not_found');
  });
});

describe('errors', () => {
  test('a function without a deployment', async () => {
    const fn = await tracker.create({ name: `no deployment ${uid()}` });
    await expectError(functions.createExecution(fn.$id), 404, 'deployment_not_found');
    await expectError(functions.createExecution(fn.$id, 'x', true), 404, 'deployment_not_found');
    assert.deepEqual(await functions.listExecutions(fn.$id), { total: 0, executions: [] });
  });

  test('an unknown function', async () => {
    await expectError(functions.createExecution(`missing${uid()}`), 404, 'function_not_found');
  });

  test('a disabled function is not found, even with a key', async () => {
    const app = await buildApp('python');
    const fn = app.fn;
    const before = await functions.createExecution(fn.$id, 'while enabled');
    assert.equal(before.status, 'completed', JSON.stringify(before));

    await functions.update(fn.$id, fn.name, fn.execute, undefined, undefined, undefined, false);
    await expectError(functions.createExecution(fn.$id), 404, 'function_not_found');
    await expectError(functions.createExecution(fn.$id, '', true), 404, 'function_not_found');
    await expectError(functions.listExecutions(fn.$id), 404, 'function_not_found');
    await expectError(functions.getExecution(fn.$id, before.$id), 404, 'function_not_found');
    assert.equal((await functions.get(fn.$id)).enabled, false);

    await functions.update(fn.$id, fn.name, fn.execute, undefined, undefined, undefined, true);
    const again = await functions.createExecution(fn.$id, 'enabled again');
    assert.equal(again.status, 'completed', JSON.stringify(again));
    assert.equal((await functions.listExecutions(fn.$id)).total, 2);
  });

  test('data over 8192 characters is a 400', async () => {
    const fnId = apps.node.fn.$id;
    await expectError(functions.createExecution(fnId, 'x'.repeat(8193)), 400, 'general_argument_invalid');
    await expectError(functions.createExecution(fnId, 'x'.repeat(8193), true), 400, 'general_argument_invalid');
    const data = 'ä'.repeat(8192);
    const execution = await functions.createExecution(fnId, data);
    assert.equal(execution.status, 'completed', JSON.stringify(execution));
    assert.equal(responseJson(execution).payload, data);
  });
});
