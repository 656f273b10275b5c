// Helpers shared by the Node end-to-end suites (node-appwrite 8.1.0 under node:test).
//
// The suites talk to a running functiond started by ../run.sh, which exports
// FUNCTIOND_ENDPOINT, FUNCTIOND_PROJECT, FUNCTIOND_KEY, FUNCTIOND_BIN and FUNCTIOND_DATA_DIR.
// All tests share one server, so every test makes uniquely named resources.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const sdk = require('node-appwrite');

// node-appwrite returns bodies only: record the last HTTP response of the axios instance it
// uses (the same module, installed flat next to it) so tests can check status codes.
const axios = require('axios');
let lastResponse;
axios.interceptors.response.use(
  (response) => {
    lastResponse = response;
    return response;
  },
  (error) => {
    lastResponse = error.response;
    return Promise.reject(error);
  },
);

/** Assert the HTTP status (and a Content-Type header) of the last SDK call. */
export function assertLast(status) {
  assert.ok(lastResponse, 'no HTTP response recorded');
  assert.equal(lastResponse.status, status, `expected HTTP ${status}, got ${lastResponse.status}`);
  const contentType = lastResponse.headers['content-type'];
  assert.ok(contentType, `HTTP ${status} without a Content-Type header`);
  if (status === 204) {
    assert.equal(lastResponse.data, '');
  } else {
    assert.match(contentType, /^application\/json/);
  }
}

export const ALL_SCOPES = ['functions.read', 'functions.write', 'execution.read', 'execution.write'];
export const NODE_RUNTIME = 'node-20.0';
export const PYTHON_RUNTIME = 'python-3.11';
export const NEW_YEAR = '0 0 1 1 *';

export const FUNCTION_FIELDS = [
  '$id', '$createdAt', '$updatedAt', 'execute', 'name', 'enabled', 'runtime',
  'deployment', 'vars', 'events', 'schedule', 'scheduleNext', 'schedulePrevious', 'timeout',
];
export const VARIABLE_FIELDS = ['$id', '$createdAt', '$updatedAt', 'key', 'value', 'functionId'];
export const RUNTIME_FIELDS = ['$id', 'name', 'version', 'base', 'image', 'logo', 'supports'];

export const DATETIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/;
export const GENERATED_ID_RE = /^[0-9a-f]{20}$/;

export function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests through tests/e2e/run.sh`);
  }
  return value;
}

/** A short random token that starts with a letter (safe inside ids, names and searches). */
export function uid() {
  return 'n' + randomBytes(5).toString('hex');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function makeClient(project, key) {
  const client = new sdk.Client().setEndpoint(env('FUNCTIOND_ENDPOINT'));
  if (project !== undefined) client.setProject(project);
  if (key !== undefined) client.setKey(key);
  return client;
}

export function makeFunctions(project = env('FUNCTIOND_PROJECT'), key = env('FUNCTIOND_KEY')) {
  return new sdk.Functions(makeClient(project, key));
}

export function parseDatetime(text) {
  assert.match(text, DATETIME_RE, `not an Appwrite datetime: ${JSON.stringify(text)}`);
  const ms = Date.parse(text);
  assert.ok(!Number.isNaN(ms), `unparsable datetime ${text}`);
  return ms;
}

export function assertRecent(text, slackMs = 5 * 60 * 1000) {
  const ms = parseDatetime(text);
  const now = Date.now();
  assert.ok(ms >= now - slackMs && ms <= now + slackMs, `${text} is not close to now (${new Date(now).toISOString()})`);
  return ms;
}

/** `scheduleNext` of `0 0 1 1 *`: the coming Jan 1st, 00:00:00.000 UTC. */
export function assertNextNewYear(text) {
  const ms = parseDatetime(text);
  const now = Date.now();
  assert.ok(ms > now, `scheduleNext ${text} is not in the future`);
  assert.ok(ms - now <= 366 * 24 * 3600 * 1000, `scheduleNext ${text} is too far away`);
  const d = new Date(ms);
  assert.deepEqual(
    [d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()],
    [0, 1, 0, 0, 0, 0],
    `scheduleNext ${text} is not Jan 1st 00:00 UTC`,
  );
}

export function assertVariableModel(variable) {
  assert.deepEqual(Object.keys(variable).sort(), [...VARIABLE_FIELDS].sort(), 'variable fields');
  assert.equal(typeof variable.$id, 'string');
  assert.ok(variable.$id.length > 0);
  parseDatetime(variable.$createdAt);
  parseDatetime(variable.$updatedAt);
  for (const field of ['key', 'value', 'functionId']) {
    assert.equal(typeof variable[field], 'string', field);
  }
}

export function assertFunctionModel(fn) {
  assert.deepEqual(Object.keys(fn).sort(), [...FUNCTION_FIELDS].sort(), 'function fields');
  assert.equal(typeof fn.$id, 'string');
  assert.ok(fn.$id.length > 0);
  parseDatetime(fn.$createdAt);
  parseDatetime(fn.$updatedAt);
  assert.ok(Array.isArray(fn.execute));
  assert.equal(typeof fn.name, 'string');
  assert.equal(typeof fn.enabled, 'boolean');
  assert.equal(typeof fn.runtime, 'string');
  assert.equal(fn.deployment, '');
  assert.ok(Array.isArray(fn.vars));
  for (const variable of fn.vars) {
    assertVariableModel(variable);
    assert.equal(variable.functionId, fn.$id);
  }
  assert.ok(Array.isArray(fn.events));
  assert.equal(typeof fn.schedule, 'string');
  for (const field of ['scheduleNext', 'schedulePrevious']) {
    if (fn[field] !== '') parseDatetime(fn[field]);
  }
  assert.ok(Number.isInteger(fn.timeout));
}

/** Await `promise`, require an AppwriteException with this HTTP code (and type), return it. */
export async function expectError(promise, code, type) {
  let result;
  try {
    result = await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    assert.ok(err instanceof sdk.AppwriteException, `not an AppwriteException: ${err && err.stack}`);
    assert.equal(err.code, code, `expected HTTP ${code}, got ${err.code} ${err.type}: ${err.message}`);
    if (type !== undefined) {
      assert.equal(err.type, type, `expected type ${type}, got ${err.type} (${err.code}): ${err.message}`);
    }
    const body = err.response;
    assert.equal(typeof body, 'object', `error body is not JSON: ${body}`);
    for (const field of ['message', 'code', 'type', 'version']) {
      assert.ok(field in body, `error body without ${field}: ${JSON.stringify(body)}`);
    }
    assert.equal(body.code, code);
    assert.ok(typeof body.message === 'string' && body.message.length > 0);
    return err;
  }
  assert.fail(`expected HTTP ${code} ${type ?? ''}, but the call succeeded: ${JSON.stringify(result)}`);
}

export const ids = (page) => page.functions.map((fn) => fn.$id);

/** Tracks functions created by a test file and deletes them in `after`. */
export class Tracker {
  constructor(functions) {
    this.functions = functions;
    this.ids = new Set();
  }

  async create(options = {}) {
    const {
      functionId = sdk.ID.unique(),
      name = `fn ${uid()}`,
      execute = [],
      runtime = NODE_RUNTIME,
      events,
      schedule,
      timeout,
      enabled,
      functions = this.functions,
    } = options;
    const fn = await functions.create(functionId, name, execute, runtime, events, schedule, timeout, enabled);
    this.ids.add([functions, fn.$id]);
    return fn;
  }

  async cleanup() {
    for (const [functions, id] of this.ids) {
      try {
        await functions.delete(id);
      } catch {
        // already deleted by the test
      }
    }
    this.ids.clear();
  }
}

/** The functiond admin CLI against the running server's data dir. */
export const cli = {
  run(...args) {
    try {
      return execFileSync(env('FUNCTIOND_BIN'), [...args, '--data-dir', env('FUNCTIOND_DATA_DIR')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
    } catch (err) {
      throw new Error(`functiond ${args.join(' ')} failed: ${err.message}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`);
    }
  },

  createProject(projectId = 'nodeproj' + randomBytes(5).toString('hex'), name) {
    const args = ['project', 'create', projectId];
    if (name) args.push('--name', name);
    this.run(...args);
    return projectId;
  },

  createKey(project, scopes, name) {
    const args = ['key', 'create', '--project', project, '--scopes', scopes.join(',')];
    if (name) args.push('--name', name);
    const lines = this.run(...args).split('\n').map((l) => l.trim()).filter(Boolean);
    assert.ok(lines.length > 0, 'functiond key create printed nothing');
    return lines[lines.length - 1];
  },
};

// --- deployments and executions -----------------------------------------------------------

export const DEPLOYMENT_FIELDS = [
  '$id', '$createdAt', '$updatedAt', 'resourceId', 'resourceType', 'entrypoint', 'size',
  'buildId', 'activate', 'status', 'buildStdout', 'buildStderr',
];
// 1.1 adds buildTime; chunksTotal/chunksUploaded are read by the SDKs' progress callbacks.
export const DEPLOYMENT_OPTIONAL_FIELDS = ['buildTime', 'chunksTotal', 'chunksUploaded'];
export const EXECUTION_FIELDS = [
  '$id', '$createdAt', '$updatedAt', '$permissions', 'functionId', 'trigger', 'status',
  'statusCode', 'response', 'stdout', 'stderr', 'duration',
];
export const BUILD_STATUSES = ['processing', 'building', 'ready', 'failed'];
export const EXECUTION_STATUSES = ['waiting', 'processing', 'completed', 'failed'];
export const RUNTIME_NAMES = { [NODE_RUNTIME]: ['Node.js', '20.0'], [PYTHON_RUNTIME]: ['Python', '3.11'] };
export const NODE_ENTRYPOINT = 'index.js';
export const PYTHON_ENTRYPOINT = 'main.py';

/** The test functions' sources (tests/e2e/functions/<lang>/), packed into archives at test time. */
export const FUNCTIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'functions');

/** A fresh temp folder, removed by `removeTempDirs()`. */
const tempDirs = [];
export function tempDir(prefix = 'functiond-e2e-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
export function removeTempDirs() {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The files of the `lang` ('node' | 'python') test function, as { archive name: Buffer }. */
export function functionFiles(lang, { packageJson = true, requirements, extra = {} } = {}) {
  const folder = path.join(FUNCTIONS_DIR, lang);
  const files = {};
  for (const name of fs.readdirSync(folder).sort()) {
    if (name === 'package.json' && !packageJson) continue;
    files[name] = fs.readFileSync(path.join(folder, name));
  }
  if (requirements !== undefined) files['requirements.txt'] = Buffer.from(requirements);
  return { ...files, ...extra };
}

/**
 * Write `files` ({ name: Buffer | string }) to a temp folder and pack them with `tar czf`;
 * returns the archive's path. `dotPrefix` packs `.` (entries named `./name`, as `tar czf x .` does).
 */
export function makeTarGz(files, { name = 'code.tar.gz', dotPrefix = false } = {}) {
  const src = tempDir('functiond-e2e-src-');
  for (const [file, data] of Object.entries(files)) {
    fs.writeFileSync(path.join(src, file), data);
  }
  const out = path.join(tempDir('functiond-e2e-tgz-'), name);
  const entries = dotPrefix ? ['.'] : Object.keys(files);
  execFileSync('tar', ['czf', out, '-C', src, ...entries], { stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

export function assertDeploymentModel(dep) {
  const keys = Object.keys(dep);
  for (const field of DEPLOYMENT_FIELDS) assert.ok(keys.includes(field), `deployment without ${field}`);
  const extra = keys.filter((k) => !DEPLOYMENT_FIELDS.includes(k) && !DEPLOYMENT_OPTIONAL_FIELDS.includes(k));
  assert.deepEqual(extra, [], 'unexpected deployment fields');
  assert.match(dep.$id, GENERATED_ID_RE);
  parseDatetime(dep.$createdAt);
  parseDatetime(dep.$updatedAt);
  assert.equal(dep.resourceType, 'functions');
  for (const field of ['resourceId', 'entrypoint', 'buildId', 'buildStdout', 'buildStderr']) {
    assert.equal(typeof dep[field], 'string', field);
  }
  assert.ok(Number.isInteger(dep.size), 'size');
  assert.equal(typeof dep.activate, 'boolean');
  assert.ok(BUILD_STATUSES.includes(dep.status), `status ${dep.status}`);
  if ('buildTime' in dep) assert.ok(Number.isInteger(dep.buildTime) && dep.buildTime >= 0, 'buildTime');
}

export function assertExecutionModel(ex) {
  assert.deepEqual(Object.keys(ex).sort(), [...EXECUTION_FIELDS].sort(), 'execution fields');
  assert.match(ex.$id, GENERATED_ID_RE);
  parseDatetime(ex.$createdAt);
  parseDatetime(ex.$updatedAt);
  assert.ok(Array.isArray(ex.$permissions));
  assert.ok(['http', 'schedule', 'event'].includes(ex.trigger), `trigger ${ex.trigger}`);
  assert.ok(EXECUTION_STATUSES.includes(ex.status), `status ${ex.status}`);
  assert.ok(Number.isInteger(ex.statusCode), 'statusCode');
  for (const field of ['functionId', 'response', 'stdout', 'stderr']) {
    assert.equal(typeof ex[field], 'string', field);
  }
  assert.equal(typeof ex.duration, 'number');
  assert.ok(ex.duration >= 0);
}

/** Poll the deployment until its build is `ready` or `failed` (bounded); return it. */
export async function waitForBuild(functions, functionId, deploymentId, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  const seen = [];
  for (;;) {
    const dep = await functions.getDeployment(functionId, deploymentId);
    assert.ok(BUILD_STATUSES.includes(dep.status), `unknown build status ${dep.status}`);
    if (seen[seen.length - 1] !== dep.status) seen.push(dep.status);
    if (dep.status === 'ready' || dep.status === 'failed') return dep;
    if (Date.now() > deadline) {
      assert.fail(`deployment ${deploymentId} not built within ${timeoutMs} ms (statuses seen: ${seen}): ${JSON.stringify(dep)}`);
    }
    await sleep(100);
  }
}

/** Poll the execution until it is `completed` or `failed` (bounded); return it. */
export async function waitForExecution(functions, functionId, executionId, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ex = await functions.getExecution(functionId, executionId);
    assert.ok(EXECUTION_STATUSES.includes(ex.status), `unknown execution status ${ex.status}`);
    if (ex.status === 'completed' || ex.status === 'failed') return ex;
    if (Date.now() > deadline) {
      assert.fail(`execution ${executionId} not finished within ${timeoutMs} ms: ${JSON.stringify(ex)}`);
    }
    await sleep(100);
  }
}

/**
 * Upload an archive with InputFile.fromPath (8.1.0's fromBuffer turns the bytes into a UTF-8
 * string, which mangles a gzip) and wait for its build; returns { created, built }.
 */
export async function deploy(functions, functionId, entrypoint, archivePath, activate, timeoutMs = 60_000) {
  const created = await functions.createDeployment(
    functionId, entrypoint, sdk.InputFile.fromPath(archivePath, path.basename(archivePath)), activate,
  );
  assertLast(202);
  const built = await waitForBuild(functions, functionId, created.$id, timeoutMs);
  return { created, built };
}

/**
 * A single-request upload made the way createDeployment makes it (the SDK's own Client.call with
 * the same multipart payload). For the error cases: node-appwrite 8.1.0 sends the last chunk from
 * a stream 'finish' handler, so a refused upload never rejects createDeployment's promise — the
 * AppwriteException escapes as an unhandled rejection instead.
 */
export function uploadOnce(functions, functionId, entrypoint, bytes, filename, activate) {
  return functions.client.call('post', `/functions/${functionId}/deployments`, { 'content-type': 'multipart/form-data' }, {
    entrypoint,
    code: { type: 'file', file: Readable.from([bytes]), filename },
    activate: String(activate),
  });
}

/** The execution's `response`, which a res.json() answer carries as a JSON-encoded string. */
export function responseJson(execution) {
  assert.ok(execution.response, `empty response: ${JSON.stringify(execution)}`);
  return JSON.parse(execution.response);
}

/** The lines of a log (stdout/stderr), without a trailing newline's empty line. */
export const lines = (text) => text.split('\n').filter((line, i, all) => !(line === '' && i === all.length - 1));
