// Function variables (create/list/get/update/delete) through node-appwrite 8.1.0.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import {
  GENERATED_ID_RE,
  Tracker,
  assertFunctionModel,
  assertLast,
  assertRecent,
  assertVariableModel,
  expectError,
  makeFunctions,
  uid,
} from './support.mjs';

const functions = makeFunctions();
const tracker = new Tracker(functions);
after(() => tracker.cleanup());

describe('variables', () => {
  test('life cycle', async () => {
    const fid = (await tracker.create()).$id;

    const first = await functions.createVariable(fid, 'APP_TEST', 'TESTINGVALUE');
    assertLast(201);
    assertVariableModel(first);
    assert.match(first.$id, GENERATED_ID_RE, 'variable ids are server-generated');
    assert.equal(first.key, 'APP_TEST');
    assert.equal(first.value, 'TESTINGVALUE');
    assert.equal(first.functionId, fid);
    assertRecent(first.$createdAt);

    const second = await functions.createVariable(fid, 'SECOND_KEY', 'second value');
    assert.notEqual(second.$id, first.$id);

    const dup = await expectError(functions.createVariable(fid, 'APP_TEST', 'other'), 409, 'variable_already_exists');
    assert.ok(dup.message);

    const listed = await functions.listVariables(fid);
    assertLast(200);
    assert.deepEqual(Object.keys(listed).sort(), ['total', 'variables']);
    assert.equal(listed.total, 2);
    assert.deepEqual(listed.variables, [first, second]);

    assert.deepEqual(await functions.getVariable(fid, first.$id), first);
    assertLast(200);

    // the function model shows the variables with plaintext values
    const withVars = await functions.get(fid);
    assertFunctionModel(withVars);
    assert.deepEqual(withVars.vars, [first, second]);

    // update key and value
    const updated = await functions.updateVariable(fid, first.$id, 'APP_TEST_RENAMED', 'NEWVALUE');
    assertLast(200);
    assertVariableModel(updated);
    assert.equal(updated.$id, first.$id);
    assert.equal(updated.key, 'APP_TEST_RENAMED');
    assert.equal(updated.value, 'NEWVALUE');
    assert.equal(updated.functionId, fid);
    assert.equal(updated.$createdAt, first.$createdAt);
    assert.deepEqual(await functions.getVariable(fid, first.$id), updated);

    // update the key only: node-appwrite omits "value", the value is kept
    const keyOnly = await functions.updateVariable(fid, first.$id, 'APP_TEST_KEY_ONLY');
    assert.equal(keyOnly.key, 'APP_TEST_KEY_ONLY');
    assert.equal(keyOnly.value, 'NEWVALUE');
    assert.equal((await functions.getVariable(fid, first.$id)).value, 'NEWVALUE');

    // renaming onto an existing key
    await expectError(functions.updateVariable(fid, first.$id, 'SECOND_KEY', 'x'), 409, 'variable_already_exists');

    const varsNow = Object.fromEntries((await functions.get(fid)).vars.map((v) => [v.key, v.value]));
    assert.deepEqual(varsNow, { APP_TEST_KEY_ONLY: 'NEWVALUE', SECOND_KEY: 'second value' });

    // the old key is free again
    const reused = await functions.createVariable(fid, 'APP_TEST', 'again');
    assert.equal(reused.key, 'APP_TEST');

    for (const variable of [first, second, reused]) {
      assert.equal(await functions.deleteVariable(fid, variable.$id), '');
      assertLast(204);
    }
    await expectError(functions.getVariable(fid, first.$id), 404, 'variable_not_found');
    await expectError(functions.deleteVariable(fid, first.$id), 404, 'variable_not_found');
    assert.deepEqual(await functions.listVariables(fid), { total: 0, variables: [] });
    assert.deepEqual((await functions.get(fid)).vars, []);
  });

  test('the same key on two functions', async () => {
    const one = (await tracker.create()).$id;
    const two = (await tracker.create()).$id;
    const a = await functions.createVariable(one, 'SHARED', 'one');
    const b = await functions.createVariable(two, 'SHARED', 'two');
    assert.notEqual(a.$id, b.$id);
    assert.deepEqual((await functions.listVariables(one)).variables, [a]);
    assert.deepEqual((await functions.listVariables(two)).variables, [b]);
    await expectError(functions.getVariable(two, a.$id), 404, 'variable_not_found');
    await expectError(functions.updateVariable(two, a.$id, 'X', 'y'), 404, 'variable_not_found');
    await expectError(functions.deleteVariable(two, a.$id), 404, 'variable_not_found');
    assert.deepEqual(await functions.getVariable(one, a.$id), a);
  });

  test('values round-trip', async () => {
    const fid = (await tracker.create()).$id;
    const samples = {
      UNICODE: 'êä ü 漢字 💡',
      JSON_LIKE: '{"a": [1, 2], "b": "c\\"d"}',
      MULTILINE: 'line1\nline2\ttab',
      MAX_VALUE: 'v'.repeat(8192),
      ['K'.repeat(255)]: 'max key',
    };
    for (const [key, value] of Object.entries(samples)) {
      const made = await functions.createVariable(fid, key, value);
      assert.equal(made.key, key);
      assert.equal(made.value, value);
      assert.equal((await functions.getVariable(fid, made.$id)).value, value);
    }
    const fromFunction = Object.fromEntries((await functions.get(fid)).vars.map((v) => [v.key, v.value]));
    assert.deepEqual(fromFunction, samples);
  });

  test('validation', async () => {
    const fid = (await tracker.create()).$id;
    await expectError(functions.createVariable(fid, 'K'.repeat(256), 'v'), 400, 'general_argument_invalid');
    await expectError(functions.createVariable(fid, 'BIG', 'v'.repeat(8193)), 400, 'general_argument_invalid');
    await expectError(functions.createVariable(fid, 'EMPTY', ''), 400, 'general_argument_invalid');
    await expectError(functions.createVariable(fid, '', 'value'), 400, 'general_argument_invalid');
    assert.equal((await functions.listVariables(fid)).total, 0);

    const variable = await functions.createVariable(fid, 'OK', 'fine');
    await expectError(functions.updateVariable(fid, variable.$id, 'K'.repeat(256), 'v'), 400, 'general_argument_invalid');
    await expectError(functions.updateVariable(fid, variable.$id, 'OK', 'v'.repeat(8193)), 400, 'general_argument_invalid');
    await expectError(functions.updateVariable(fid, variable.$id, '', 'v'), 400, 'general_argument_invalid');
    assert.deepEqual(await functions.getVariable(fid, variable.$id), variable);
  });

  test('variables of an unknown function are 404 function_not_found', async () => {
    const missing = `missing${uid()}`;
    await expectError(functions.createVariable(missing, 'K', 'v'), 404, 'function_not_found');
    await expectError(functions.listVariables(missing), 404, 'function_not_found');
    await expectError(functions.getVariable(missing, 'anything'), 404, 'function_not_found');
    await expectError(functions.updateVariable(missing, 'anything', 'K', 'v'), 404, 'function_not_found');
    await expectError(functions.deleteVariable(missing, 'anything'), 404, 'function_not_found');
  });

  test('an unknown variable is 404 variable_not_found', async () => {
    const fid = (await tracker.create()).$id;
    await expectError(functions.getVariable(fid, 'NON_EXISTING_VARIABLE'), 404, 'variable_not_found');
    await expectError(functions.updateVariable(fid, 'NON_EXISTING_VARIABLE', 'K', 'v'), 404, 'variable_not_found');
    await expectError(functions.deleteVariable(fid, 'NON_EXISTING_VARIABLE'), 404, 'variable_not_found');
  });

  test('deleting the function removes its variables', async () => {
    const fn = await tracker.create();
    const variable = await functions.createVariable(fn.$id, 'GONE', 'soon');
    await functions.delete(fn.$id);
    await expectError(functions.listVariables(fn.$id), 404, 'function_not_found');
    await expectError(functions.getVariable(fn.$id, variable.$id), 404, 'function_not_found');
    const again = await tracker.create({ functionId: fn.$id, name: 'again', runtime: fn.runtime });
    assert.deepEqual(again.vars, []);
    assert.deepEqual(await functions.listVariables(fn.$id), { total: 0, variables: [] });
  });
});
