// Deployments through node-appwrite 8.1.0: uploads (single and chunked), builds, activation,
// listing, retries and deletion. Archives are packed here (tar czf) from tests/e2e/functions/<lang>/.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
  FUNCTION_FIELDS,
  NODE_ENTRYPOINT,
  NODE_RUNTIME,
  PYTHON_ENTRYPOINT,
  PYTHON_RUNTIME,
  Tracker,
  assertDeploymentModel,
  assertLast,
  assertRecent,
  deploy,
  expectError,
  functionFiles,
  makeFunctions,
  makeTarGz,
  removeTempDirs,
  responseJson,
  sdk,
  uid,
  uploadOnce,
  waitForBuild,
} from './support.mjs';

const { InputFile, Query } = sdk;
const CHUNK = 5 * 1024 * 1024; // the SDKs' chunk size
const functions = makeFunctions();
const tracker = new Tracker(functions);
after(async () => {
  await tracker.cleanup();
  removeTempDirs();
});

const depIds = (page) => page.deployments.map((dep) => dep.$id);
const fileSize = (file) => fs.statSync(file).size;

describe('upload, build, activate', () => {
  test('node: activate=true builds (npm install of a package.json) and activates', async () => {
    const fn = await tracker.create({ name: `deploy node ${uid()}`, runtime: NODE_RUNTIME });
    const archive = makeTarGz(functionFiles('node'));
    const progress = [];
    const created = await functions.createDeployment(
      fn.$id, NODE_ENTRYPOINT, InputFile.fromPath(archive, 'code.tar.gz'), true, (p) => progress.push(p),
    );
    assertLast(202);
    assertDeploymentModel(created);
    assertRecent(created.$createdAt);
    assert.equal(created.resourceId, fn.$id);
    assert.equal(created.entrypoint, NODE_ENTRYPOINT);
    assert.equal(created.size, fileSize(archive));
    assert.equal(created.activate, true);
    assert.ok(['processing', 'building'].includes(created.status), created.status);
    assert.equal(progress.length, 1);
    assert.equal(progress[0].$id, created.$id);

    const built = await waitForBuild(functions, fn.$id, created.$id);
    assertDeploymentModel(built);
    assert.equal(built.status, 'ready', built.buildStderr);
    assert.equal(built.$id, created.$id);
    assert.equal(built.size, fileSize(archive));
    assert.equal(built.activate, true);
    assert.notEqual(built.buildId, '');
    assert.notEqual(built.buildStdout, '', "npm's output");

    const fetched = await functions.get(fn.$id);
    assert.equal(fetched.deployment, created.$id);

    const execution = await functions.createExecution(fn.$id, 'ping');
    assert.equal(execution.status, 'completed', JSON.stringify(execution));
    const body = responseJson(execution);
    assert.equal(body.variables.APPWRITE_FUNCTION_DEPLOYMENT, created.$id);
    assert.equal(body.packageName, 'functiond-e2e-node-function');
  });

  test('python: activate=false, then PATCH activates (archive made with `tar czf x .`)', async () => {
    const fn = await tracker.create({ name: `deploy python ${uid()}`, runtime: PYTHON_RUNTIME });
    const archive = makeTarGz(functionFiles('python'), { dotPrefix: true });
    const { created, built } = await deploy(functions, fn.$id, PYTHON_ENTRYPOINT, archive, false);
    assertDeploymentModel(created);
    assert.equal(created.activate, false);
    assert.equal(created.entrypoint, PYTHON_ENTRYPOINT);
    assert.equal(built.status, 'ready', built.buildStderr);
    assert.equal(built.activate, false);
    assert.notEqual(built.buildStdout, '');

    assert.equal((await functions.get(fn.$id)).deployment, '');
    await expectError(functions.createExecution(fn.$id), 404, 'deployment_not_found');

    const updated = await functions.updateDeployment(fn.$id, created.$id);
    assertLast(200);
    assert.deepEqual(Object.keys(updated).sort(), [...FUNCTION_FIELDS].sort(), 'PATCH answers with the Function');
    assert.equal(updated.$id, fn.$id);
    assert.equal(updated.deployment, created.$id);
    assert.equal((await functions.get(fn.$id)).deployment, created.$id);

    const execution = await functions.createExecution(fn.$id, 'after patch');
    assert.equal(execution.status, 'completed', JSON.stringify(execution));
    const body = responseJson(execution);
    assert.equal(body.payload, 'after patch');
    assert.equal(body.variables.APPWRITE_FUNCTION_DEPLOYMENT, created.$id);

    await expectError(functions.updateDeployment(fn.$id, `missing${uid()}`), 404, 'deployment_not_found');
    await expectError(functions.updateDeployment(`missing${uid()}`, created.$id), 404, 'function_not_found');
  });

  test('a newer activate=true upload takes over; deleting deployments', async () => {
    const fn = await tracker.create({ name: `activation ${uid()}` });
    const archive = makeTarGz(functionFiles('node', { packageJson: false }));
    const first = await deploy(functions, fn.$id, NODE_ENTRYPOINT, archive, true);
    assert.equal(first.built.status, 'ready', first.built.buildStderr);
    const second = await deploy(functions, fn.$id, NODE_ENTRYPOINT, archive, true);
    assert.equal(second.built.status, 'ready', second.built.buildStderr);
    const firstId = first.created.$id;
    const secondId = second.created.$id;

    assert.equal((await functions.get(fn.$id)).deployment, secondId);
    assert.equal((await functions.getDeployment(fn.$id, firstId)).activate, false);
    assert.equal((await functions.getDeployment(fn.$id, secondId)).activate, true);
    let body = responseJson(await functions.createExecution(fn.$id));
    assert.equal(body.variables.APPWRITE_FUNCTION_DEPLOYMENT, secondId);

    assert.equal((await functions.updateDeployment(fn.$id, firstId)).deployment, firstId);
    body = responseJson(await functions.createExecution(fn.$id));
    assert.equal(body.variables.APPWRITE_FUNCTION_DEPLOYMENT, firstId);

    // an inactive one: the function keeps its deployment
    const result = await functions.deleteDeployment(fn.$id, secondId);
    assertLast(204);
    assert.equal(result, '');
    await expectError(functions.getDeployment(fn.$id, secondId), 404, 'deployment_not_found');
    assert.equal((await functions.get(fn.$id)).deployment, firstId);
    assert.deepEqual(depIds(await functions.listDeployments(fn.$id)), [firstId]);

    // the active one: the function's deployment goes back to ""
    await functions.deleteDeployment(fn.$id, firstId);
    assertLast(204);
    await expectError(functions.getDeployment(fn.$id, firstId), 404, 'deployment_not_found');
    assert.equal((await functions.get(fn.$id)).deployment, '');
    assert.deepEqual(await functions.listDeployments(fn.$id), { total: 0, deployments: [] });
    await expectError(functions.createExecution(fn.$id), 404, 'deployment_not_found');
    await expectError(functions.deleteDeployment(fn.$id, firstId), 404, 'deployment_not_found');
  });
});

describe('build failures', () => {
  test('entrypoint missing from the archive: failed, retried, failed again', async () => {
    const fn = await tracker.create({ name: `broken ${uid()}` });
    const archive = makeTarGz(functionFiles('node', { packageJson: false }));
    const { created, built } = await deploy(functions, fn.$id, 'missing.js', archive, true);
    assertDeploymentModel(built);
    assert.equal(built.status, 'failed');
    assert.match(built.buildStderr, /missing\.js/);
    assert.notEqual(built.buildId, '');
    assert.equal((await functions.get(fn.$id)).deployment, '');
    await expectError(functions.updateDeployment(fn.$id, created.$id), 400, 'build_not_ready');
    await expectError(functions.createExecution(fn.$id), 404, 'deployment_not_found');

    const result = await functions.retryBuild(fn.$id, created.$id, built.buildId);
    assertLast(204);
    assert.equal(result, '');
    const again = await waitForBuild(functions, fn.$id, created.$id);
    assert.equal(again.status, 'failed');
    assert.match(again.buildStderr, /missing\.js/);
    assert.equal(again.buildId, built.buildId);
    assert.equal((await functions.get(fn.$id)).deployment, '');

    await expectError(functions.retryBuild(fn.$id, created.$id, `missing${uid()}`), 404, 'build_not_found');
    await expectError(functions.retryBuild(fn.$id, `missing${uid()}`, built.buildId), 404, 'deployment_not_found');
  });

  test('a ready build cannot be retried', async () => {
    const fn = await tracker.create({ name: `ready retry ${uid()}` });
    const archive = makeTarGz(functionFiles('node', { packageJson: false }));
    const { built } = await deploy(functions, fn.$id, NODE_ENTRYPOINT, archive, false);
    assert.equal(built.status, 'ready', built.buildStderr);
    const err = await expectError(functions.retryBuild(fn.$id, built.$id, built.buildId), 400, 'build_in_progress');
    assert.equal(err.message, 'Build not failed');
  });
});

describe('chunked upload', () => {
  test('an incompressible archive over 5 MiB goes up in two chunks, builds and runs', async () => {
    const fn = await tracker.create({ name: `large ${uid()}` });
    const blob = randomBytes(6 * 1024 * 1024 + 98_765); // random: gzip cannot shrink it
    const archive = makeTarGz(functionFiles('node', { packageJson: false, extra: { 'blob.bin': blob } }));
    const size = fileSize(archive);
    assert.ok(size > CHUNK && size < 2 * CHUNK, `archive size ${size}`);

    const progress = [];
    const created = await functions.createDeployment(
      fn.$id, NODE_ENTRYPOINT, InputFile.fromPath(archive, 'large.tar.gz'), true, (p) => progress.push(p),
    );
    assertLast(202);
    assertDeploymentModel(created);
    assert.deepEqual(progress.map((p) => p.$id), [created.$id, created.$id]);
    assert.deepEqual(progress.map((p) => p.chunksTotal), [2, 2]);
    assert.deepEqual(progress.map((p) => p.chunksUploaded), [1, 2]);
    assert.equal(created.size, size);
    assert.equal(created.activate, true);

    const built = await waitForBuild(functions, fn.$id, created.$id, 60_000);
    assert.equal(built.status, 'ready', built.buildStderr);
    assert.equal(built.size, size);
    assert.equal((await functions.get(fn.$id)).deployment, created.$id);

    const execution = await functions.createExecution(fn.$id, 'large');
    assert.equal(execution.status, 'completed', JSON.stringify(execution));
    assert.deepEqual(responseJson(execution).blob, {
      size: blob.length,
      sha256: createHash('sha256').update(blob).digest('hex'),
    });
  });
});

describe('list and get', () => {
  let fn;
  let ids;
  let built;
  let sizes;

  before(async () => {
    fn = await tracker.create({ name: `listing ${uid()}` });
    const files = functionFiles('node', { packageJson: false });
    const index = makeTarGz(files);
    // random padding makes this archive's size differ from the other one's
    const other = makeTarGz({ 'other.js': files[NODE_ENTRYPOINT], 'padding.bin': randomBytes(999) });
    const uploads = [];
    for (const [entrypoint, archive] of [[NODE_ENTRYPOINT, index], [NODE_ENTRYPOINT, index], ['other.js', other]]) {
      uploads.push(await functions.createDeployment(fn.$id, entrypoint, InputFile.fromPath(archive, 'code.tar.gz'), false));
    }
    ids = uploads.map((dep) => dep.$id);
    built = [];
    for (const dep of uploads) built.push(await waitForBuild(functions, fn.$id, dep.$id));
    for (const dep of built) assert.equal(dep.status, 'ready', dep.buildStderr);
    sizes = [fileSize(index), fileSize(index), fileSize(other)];
  });

  test('list: creation order, build status and output', async () => {
    const page = await functions.listDeployments(fn.$id);
    assertLast(200);
    assert.deepEqual(Object.keys(page), ['total', 'deployments']);
    assert.equal(page.total, 3);
    assert.deepEqual(depIds(page), ids);
    page.deployments.forEach((dep, i) => {
      assertDeploymentModel(dep);
      assert.equal(dep.resourceId, fn.$id);
      assert.equal(dep.status, 'ready');
      assert.notEqual(dep.buildStdout, '');
      assert.equal(dep.activate, false);
      assert.equal(dep.size, sizes[i]);
    });
    assert.deepEqual(page.deployments.map((dep) => dep.entrypoint), [NODE_ENTRYPOINT, NODE_ENTRYPOINT, 'other.js']);
    assert.deepEqual(page.deployments, built);
  });

  test('list: queries and search', async () => {
    const query = async (queries, search) => {
      const page = await functions.listDeployments(fn.$id, queries, search);
      return [page.total, depIds(page)];
    };
    assert.deepEqual(await query([Query.limit(1)]), [3, ids.slice(0, 1)]);
    assert.deepEqual(await query([Query.limit(0)]), [3, []]);
    assert.deepEqual(await query([Query.offset(1)]), [3, ids.slice(1)]);
    assert.deepEqual(await query([Query.limit(1), Query.offset(2)]), [3, ids.slice(2)]);
    assert.deepEqual(await query([Query.equal('entrypoint', [NODE_ENTRYPOINT])]), [2, ids.slice(0, 2)]);
    assert.deepEqual(await query([Query.equal('entrypoint', ['other.js'])]), [1, ids.slice(2)]);
    assert.deepEqual(await query([Query.equal('entrypoint', ['nope.js'])]), [0, []]);
    assert.deepEqual(await query([Query.equal('activate', [false])]), [3, ids]);
    assert.deepEqual(await query([Query.equal('size', [sizes[2]])]), [1, ids.slice(2)]);
    assert.deepEqual(await query([Query.cursorAfter(ids[0])]), [3, ids.slice(1)]);
    assert.deepEqual(await query([Query.cursorBefore(ids[2])]), [3, ids.slice(0, 2)]);
    assert.deepEqual(await query([Query.orderDesc('size'), Query.limit(1)]), [3, ids.slice(2)]);

    assert.deepEqual(await query(undefined, ids[1]), [1, [ids[1]]]);
    assert.deepEqual(await query(undefined, 'other'), [1, ids.slice(2)]);
    assert.deepEqual(await query(undefined, `nomatch${uid()}`), [0, []]);

    await expectError(functions.listDeployments(fn.$id, [Query.equal('status', ['ready'])]), 400, 'general_argument_invalid');
    await expectError(functions.listDeployments(fn.$id, [Query.cursorAfter(`missing${uid()}`)]), 400, 'general_cursor_not_found');
    await expectError(functions.listDeployments(`missing${uid()}`), 404, 'function_not_found');
  });

  test('get', async () => {
    const dep = await functions.getDeployment(fn.$id, ids[2]);
    assertLast(200);
    assertDeploymentModel(dep);
    assert.deepEqual(dep, built[2]);
    assert.equal(dep.status, 'ready');
    assert.notEqual(dep.buildStdout, '');

    await expectError(functions.getDeployment(fn.$id, `missing${uid()}`), 404, 'deployment_not_found');
    await expectError(functions.getDeployment(`missing${uid()}`, ids[0]), 404, 'function_not_found');
    const otherFn = await tracker.create({ name: `other ${uid()}` });
    await expectError(functions.getDeployment(otherFn.$id, ids[0]), 404, 'deployment_not_found');
  });
});

describe('upload errors', () => {
  test('a file name not ending in .gz is refused', async () => {
    const fn = await tracker.create({ name: `upload errors ${uid()}` });
    const archive = fs.readFileSync(makeTarGz(functionFiles('node')));
    for (const name of ['code.tar', 'code.zip', 'code.gz.tar', 'code']) {
      await expectError(
        uploadOnce(functions, fn.$id, NODE_ENTRYPOINT, archive, name, true), 400, 'storage_file_type_unsupported',
      );
    }
    assert.equal((await functions.listDeployments(fn.$id)).total, 0);
    assert.equal((await functions.get(fn.$id)).deployment, '');

    // the same request with a .gz name goes through
    const created = await uploadOnce(functions, fn.$id, NODE_ENTRYPOINT, archive, 'code.tar.gz', false);
    assertLast(202);
    assert.equal(created.size, archive.length);
    assert.equal((await waitForBuild(functions, fn.$id, created.$id)).status, 'ready');
  });

  test('an upload to an unknown function is a 404, and the connection stays usable', async () => {
    const fn = await tracker.create({ name: `upload 404 ${uid()}` });
    const archive = fs.readFileSync(makeTarGz(functionFiles('node')));
    await expectError(
      uploadOnce(functions, `missing${uid()}`, NODE_ENTRYPOINT, archive, 'code.tar.gz', true), 404, 'function_not_found',
    );
    // node 20's global agent keeps connections alive and form-data sends the body chunked: the
    // next request reuses the socket the 404 came back on
    assert.equal((await functions.get(fn.$id)).$id, fn.$id);
    assert.equal((await functions.listDeployments(fn.$id)).total, 0);
  });
});
