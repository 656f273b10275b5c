// JWT users, execute roles, the origin check and the rate limit through node-appwrite 8.1.0.
// Tokens come from `functiond jwt create` (it signs with FUNCTIOND_JWT_SECRET, the secret
// run.sh gave the server); the client authenticates with `setJWT`.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import {
  ALL_SCOPES,
  NODE_ENTRYPOINT,
  NODE_RUNTIME,
  Tracker,
  assertExecutionModel,
  assertLast,
  cli,
  deploy,
  env,
  expectError,
  functionFiles,
  makeFunctions,
  makeTarGz,
  removeTempDirs,
  responseJson,
  sdk,
  uid,
  waitForExecution,
} from './support.mjs';

const functions = makeFunctions();
const tracker = new Tracker(functions);
after(async () => {
  await tracker.cleanup();
  removeTempDirs();
});

// The rate-limit headers of the last response (node-appwrite returns bodies only).
const axios = createRequire(import.meta.url)('axios');
let lastHeaders = {};
axios.interceptors.response.use(
  (response) => {
    lastHeaders = response.headers;
    return response;
  },
  (error) => {
    lastHeaders = error.response ? error.response.headers : {};
    return Promise.reject(error);
  },
);

/** A token from the CLI: `functiond jwt create --user USER [flags]`. */
function jwtFor(user, ...flags) {
  const lines = cli.run('jwt', 'create', '--user', user, ...flags).split('\n').filter(Boolean);
  return lines[lines.length - 1];
}

/** A token signed here, for the claims the CLI does not make (an expired one). */
function handMade(claims, secret = env('FUNCTIOND_JWT_SECRET')) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function clientFor(project, { jwt, origin } = {}) {
  const client = new sdk.Client().setEndpoint(env('FUNCTIOND_ENDPOINT')).setProject(project);
  if (jwt !== undefined) client.setJWT(jwt);
  if (origin !== undefined) client.addHeader('Origin', origin);
  return new sdk.Functions(client);
}

const projectId = () => env('FUNCTIOND_PROJECT');
let fn;

async function setExecute(execute) {
  await functions.update(fn.$id, fn.name, execute);
}

before(async () => {
  fn = await tracker.create({ name: `users ${uid()}`, execute: ['users'] });
  const archive = makeTarGz(functionFiles('node', { packageJson: false }));
  const { built } = await deploy(functions, fn.$id, NODE_ENTRYPOINT, archive, true);
  assert.equal(built.status, 'ready', built.buildStderr);
});

describe('JWT users', () => {
  test('a user runs and reads back only their own executions', async () => {
    await setExecute(['users']);
    const alice = `alice${uid()}`;
    const asAlice = clientFor(projectId(), { jwt: jwtFor(alice) });
    const asBob = clientFor(projectId(), { jwt: jwtFor(`bob${uid()}`) });

    const ran = await asAlice.createExecution(fn.$id, 'hi');
    assertLast(201);
    assertExecutionModel(ran);
    assert.deepEqual(ran.$permissions, [`read("user:${alice}")`]);
    assert.equal(ran.stdout, '');
    const seen = responseJson(ran).env;
    assert.equal(seen.APPWRITE_FUNCTION_USER_ID, alice);
    assert.equal(seen.APPWRITE_FUNCTION_JWT, '');

    const queued = await asAlice.createExecution(fn.$id, 'later', true);
    assertLast(202);
    const done = await waitForExecution(functions, fn.$id, queued.$id);
    assert.equal(responseJson(done).env.APPWRITE_FUNCTION_USER_ID, alice);

    const mine = await asAlice.listExecutions(fn.$id);
    assert.equal(mine.total, 2);
    assert.deepEqual(mine.executions.map((e) => e.$id), [ran.$id, queued.$id]);
    assert.ok(mine.executions.every((e) => e.stdout === '' && e.stderr === ''));
    assert.equal((await asBob.listExecutions(fn.$id)).total, 0);
    await expectError(asBob.getExecution(fn.$id, ran.$id), 404, 'execution_not_found');
    await expectError(asAlice.list(), 401, 'general_unauthorized_scope');
    await expectError(asAlice.create('unique()', 'nope', [], NODE_RUNTIME), 401, 'general_unauthorized_scope');
  });

  test('execute roles: users, teams, verified status', async () => {
    const team = `team${uid()}`;
    const owner = clientFor(projectId(), { jwt: jwtFor(`own${uid()}`, '--team', `${team}:owner@m${uid()}`) });
    const verified = clientFor(projectId(), { jwt: jwtFor(`ver${uid()}`, '--verified') });
    const guest = clientFor(projectId());

    await setExecute([`team:${team}/owner`]);
    assert.equal((await owner.createExecution(fn.$id)).status, 'completed');
    await expectError(verified.createExecution(fn.$id), 401, 'user_unauthorized');
    await expectError(guest.createExecution(fn.$id), 401, 'user_unauthorized');

    await setExecute(['users/verified']);
    assert.equal((await verified.createExecution(fn.$id)).status, 'completed');
    await expectError(owner.createExecution(fn.$id), 401, 'user_unauthorized');

    await setExecute([]);
    await expectError(verified.createExecution(fn.$id), 401, 'user_unauthorized');
    assert.equal((await functions.createExecution(fn.$id)).status, 'completed');
  });

  test('bad or expired tokens are 401 user_jwt_invalid', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      handMade({ userId: 'eve', exp: now - 60 }),
      handMade({ userId: 'eve', exp: now + 60 }, 'not the server secret'),
      'garbage',
    ]) {
      const err = await expectError(clientFor(projectId(), { jwt: token }).createExecution(fn.$id), 401, 'user_jwt_invalid');
      assert.match(err.message, /^Failed to verify JWT\. /);
    }
    const ok = clientFor(projectId(), { jwt: handMade({ userId: `eve${uid()}`, exp: now - 5 }) });
    assert.equal((await ok.listExecutions(fn.$id)).total, 0, 'within the 10 s leeway');
  });
});

describe('origins', () => {
  test('keyless writes need an allowed origin', async () => {
    await setExecute(['any']);
    const jwt = jwtFor(`web${uid()}`);
    for (const options of [{}, { jwt }]) {
      await expectError(
        clientFor(projectId(), { ...options, origin: 'https://evil.example' }).createExecution(fn.$id),
        403,
        'general_unknown_origin',
      );
      const allowed = clientFor(projectId(), { ...options, origin: env('E2E_ALLOWED_ORIGIN') });
      assert.equal((await allowed.createExecution(fn.$id)).status, 'completed');
    }
    const reader = clientFor(projectId(), { jwt, origin: 'https://evil.example' });
    assert.equal((await reader.listExecutions(fn.$id)).total, 1);
    const keyed = makeFunctions();
    keyed.client.addHeader('Origin', 'https://evil.example');
    assert.equal((await keyed.createExecution(fn.$id)).status, 'completed');
  });
});

describe('rate limit', () => {
  test('60 create-execution calls a minute per IP and user, keys exempt', async () => {
    // A project of its own, so the counters are this test's alone.
    const project = cli.createProject(undefined, 'node rate limit');
    const keyed = makeFunctions(project, cli.createKey(project, ALL_SCOPES));
    const limited = await keyed.create('unique()', 'limited', ['any'], NODE_RUNTIME);
    const left = 60 - ((Date.now() / 1000) % 60);
    if (left < 15) await new Promise((resolve) => setTimeout(resolve, (left + 0.5) * 1000));
    const guest = clientFor(project);
    for (let expected = 59; expected >= 0; expected -= 1) {
      await expectError(guest.createExecution(limited.$id), 404, 'deployment_not_found');
      assert.equal(lastHeaders['x-ratelimit-limit'], '60');
      assert.equal(lastHeaders['x-ratelimit-remaining'], String(expected));
    }
    await expectError(guest.createExecution(limited.$id), 429, 'general_rate_limit_exceeded');
    assert.equal(Number(lastHeaders['x-ratelimit-reset']) % 60, 0);
    await expectError(keyed.createExecution(limited.$id), 404, 'deployment_not_found');
    const user = clientFor(project, { jwt: jwtFor(`rl${uid()}`) });
    await expectError(user.createExecution(limited.$id), 404, 'deployment_not_found');
    assert.equal(lastHeaders['x-ratelimit-remaining'], '59');
    await keyed.delete(limited.$id);
  });
});
