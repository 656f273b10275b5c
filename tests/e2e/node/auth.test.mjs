// Projects, API keys and scopes through node-appwrite 8.1.0 (keys and projects made with the CLI).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ALL_SCOPES,
  NODE_RUNTIME,
  Tracker,
  cli,
  env,
  expectError,
  ids,
  makeFunctions,
  sdk,
  uid,
} from './support.mjs';

const functions = makeFunctions();
const tracker = new Tracker(functions);
after(() => tracker.cleanup());

const projectId = () => env('FUNCTIOND_PROJECT');
const apiKey = () => env('FUNCTIOND_KEY');

describe('scopes', () => {
  test('a functions.read key reads but cannot write', async () => {
    const target = await tracker.create();
    const key = cli.createKey(projectId(), ['functions.read'], 'node read only');
    const reader = makeFunctions(projectId(), key);

    assert.deepEqual(await reader.get(target.$id), target);
    assert.equal((await reader.list(undefined, target.$id)).total, 1);
    assert.ok((await reader.listRuntimes()).total > 0);
    assert.deepEqual(await reader.listVariables(target.$id), { total: 0, variables: [] });

    let err = await expectError(reader.create(`ro${uid()}`, 'nope', [], NODE_RUNTIME), 401, 'general_unauthorized_scope');
    assert.match(err.message, /functions\.write/);
    err = await expectError(reader.update(target.$id, 'nope', []), 401, 'general_unauthorized_scope');
    assert.match(err.message, /functions\.write/);
    await expectError(reader.delete(target.$id), 401, 'general_unauthorized_scope');
    await expectError(reader.createVariable(target.$id, 'K', 'v'), 401, 'general_unauthorized_scope');
    assert.deepEqual(await reader.get(target.$id), target);
  });

  test('a functions.write key writes but cannot read', async () => {
    const key = cli.createKey(projectId(), ['functions.write'], 'node write only');
    const writer = makeFunctions(projectId(), key);
    const fn = await tracker.create({ functions: writer, functionId: `wo${uid()}`, name: `write only ${uid()}` });
    const err = await expectError(writer.list(), 401, 'general_unauthorized_scope');
    assert.match(err.message, /functions\.read/);
    await expectError(writer.get(fn.$id), 401, 'general_unauthorized_scope');
    await expectError(writer.listRuntimes(), 401, 'general_unauthorized_scope');
    assert.equal((await functions.get(fn.$id)).$id, fn.$id);
    await functions.delete(fn.$id);
  });

  test('execution scopes do not grant functions access', async () => {
    const key = cli.createKey(projectId(), ['execution.read', 'execution.write'], 'node executions only');
    const runner = makeFunctions(projectId(), key);
    let err = await expectError(runner.list(), 401, 'general_unauthorized_scope');
    assert.match(err.message, /functions\.read/);
    err = await expectError(runner.create(`ex${uid()}`, 'nope', [], NODE_RUNTIME), 401, 'general_unauthorized_scope');
    assert.match(err.message, /functions\.write/);
  });

  test('no key at all is 401', async () => {
    const fn = await tracker.create();
    const guest = new sdk.Functions(new sdk.Client().setEndpoint(env('FUNCTIOND_ENDPOINT')).setProject(projectId()));
    await expectError(guest.list(), 401, 'general_unauthorized_scope');
    await expectError(guest.get(fn.$id), 401, 'general_unauthorized_scope');
    await expectError(guest.create(`g${uid()}`, 'nope', [], NODE_RUNTIME), 401, 'general_unauthorized_scope');
    await expectError(guest.listRuntimes(), 401, 'general_unauthorized_scope');
  });

  test('an unknown key is 401', async () => {
    const stranger = makeFunctions(projectId(), `not-a-real-key-${uid()}`);
    await expectError(stranger.list(), 401, 'general_unauthorized_scope');
    await expectError(stranger.create(`s${uid()}`, 'nope', [], NODE_RUNTIME), 401, 'general_unauthorized_scope');
  });

  test('an unknown project is 404 project_not_found', async () => {
    const nowhere = makeFunctions(`noproject${uid()}`, apiKey());
    const err = await expectError(nowhere.list(), 404, 'project_not_found');
    assert.ok(err.message);
    await expectError(nowhere.listRuntimes(), 404, 'project_not_found');
    const anonymous = new sdk.Functions(new sdk.Client().setEndpoint(env('FUNCTIOND_ENDPOINT')).setProject(`noproject${uid()}`));
    await expectError(anonymous.list(), 404, 'project_not_found');
  });
});

describe('projects', () => {
  let other;

  before(async () => {
    const project = cli.createProject(undefined, 'node e2e other');
    const key = cli.createKey(project, ALL_SCOPES, 'node e2e other key');
    const theirFunctions = makeFunctions(project, key);
    const fn = await tracker.create({ functions: theirFunctions, functionId: `other${uid()}`, name: `other ${uid()}` });
    other = { project, key, functions: theirFunctions, function: fn };
  });

  test('the default key is unknown in another project', async () => {
    const mine = await tracker.create();
    const cross = makeFunctions(other.project, apiKey());
    await expectError(cross.list(), 401, 'general_unauthorized_scope');
    await expectError(cross.get(mine.$id), 401, 'general_unauthorized_scope');
    await expectError(cross.get(other.function.$id), 401, 'general_unauthorized_scope');
    await expectError(cross.create(`x${uid()}`, 'nope', [], NODE_RUNTIME), 401, 'general_unauthorized_scope');
  });

  test("a key of the other project lists only that project's functions", async () => {
    const mine = await tracker.create();
    const page = await other.functions.list();
    assert.equal(page.total, 1);
    assert.deepEqual(ids(page), [other.function.$id]);
    assert.deepEqual(page.functions[0], other.function);
    assert.equal((await other.functions.list(undefined, mine.$id)).total, 0);
    await expectError(other.functions.get(mine.$id), 404, 'function_not_found');
    await expectError(other.functions.delete(mine.$id), 404, 'function_not_found');

    // the default project does not see the other one's function
    assert.equal((await functions.list(undefined, other.function.$id)).total, 0);
    await expectError(functions.get(other.function.$id), 404, 'function_not_found');

    // the other project's key is unknown in the default project
    const back = makeFunctions(projectId(), other.key);
    await expectError(back.list(), 401, 'general_unauthorized_scope');
    await expectError(back.get(mine.$id), 401, 'general_unauthorized_scope');
  });

  test('the same function id in two projects', async () => {
    const shared = `shared${uid()}`;
    await tracker.create({ functionId: shared, name: 'in default' });
    const theirs = await other.functions.create(shared, 'in other', [], NODE_RUNTIME);
    assert.equal(theirs.$id, shared);
    assert.equal((await other.functions.get(shared)).name, 'in other');
    const variable = await other.functions.createVariable(shared, 'ONLY_OTHER', 'x');
    assert.equal(variable.functionId, shared);
    await other.functions.delete(shared);
    const kept = await functions.get(shared);
    assert.equal(kept.name, 'in default');
    assert.deepEqual(kept.vars, []);
  });
});
