// Functions CRUD, listing/queries/search and runtimes through node-appwrite 8.1.0.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  GENERATED_ID_RE,
  NEW_YEAR,
  NODE_RUNTIME,
  PYTHON_RUNTIME,
  RUNTIME_FIELDS,
  Tracker,
  assertFunctionModel,
  assertLast,
  assertNextNewYear,
  assertRecent,
  expectError,
  ids,
  makeFunctions,
  parseDatetime,
  sdk,
  sleep,
  uid,
} from './support.mjs';

const { ID, Query, Role } = sdk;
const functions = makeFunctions();
const tracker = new Tracker(functions);
after(() => tracker.cleanup());

describe('create and get', () => {
  test('generated id, schedule, events, execute', async () => {
    const name = `Test ${uid()}`;
    const fn = await tracker.create({
      functionId: ID.unique(),
      name,
      execute: [Role.any(), Role.user('someuser', 'verified')],
      runtime: NODE_RUNTIME,
      events: ['users.*.create', 'users.*.delete'],
      schedule: NEW_YEAR,
      timeout: 10,
    });
    assertLast(201);
    assertFunctionModel(fn);
    assert.equal(fn.$id.length, 20);
    assert.match(fn.$id, GENERATED_ID_RE);
    assert.equal(fn.name, name);
    assert.equal(fn.runtime, NODE_RUNTIME);
    assert.deepEqual(fn.execute, ['any', 'user:someuser/verified']);
    assert.deepEqual(fn.events, ['users.*.create', 'users.*.delete']);
    assert.equal(fn.schedule, NEW_YEAR);
    assert.equal(fn.timeout, 10);
    assert.equal(fn.enabled, true);
    assert.equal(fn.deployment, '');
    assert.deepEqual(fn.vars, []);
    const createdAt = assertRecent(fn.$createdAt);
    assert.ok(parseDatetime(fn.$updatedAt) >= createdAt);
    assertNextNewYear(fn.scheduleNext);
    assert.equal(fn.schedulePrevious, '');

    const fetched = await functions.get(fn.$id);
    assertLast(200);
    assertFunctionModel(fetched);
    assert.deepEqual(fetched, fn);

    const found = await functions.list(undefined, fn.$id);
    assertLast(200);
    assert.equal(found.total, 1);
    assert.deepEqual(ids(found), [fn.$id]);
  });

  test('custom id and defaults', async () => {
    const custom = `fn.cust_om-${uid()}`;
    const name = `Custom ${uid()}`;
    const fn = await tracker.create({ functionId: ID.custom(custom), name, runtime: PYTHON_RUNTIME });
    assertLast(201);
    assertFunctionModel(fn);
    assert.equal(fn.$id, custom);
    assert.equal(fn.name, name);
    assert.equal(fn.runtime, PYTHON_RUNTIME);
    assert.deepEqual(fn.execute, []);
    assert.deepEqual(fn.events, []);
    assert.equal(fn.schedule, '');
    assert.equal(fn.scheduleNext, '');
    assert.equal(fn.schedulePrevious, '');
    assert.equal(fn.timeout, 15);
    assert.equal(fn.enabled, true);
    assert.equal(fn.deployment, '');
    assert.deepEqual(fn.vars, []);
    assert.deepEqual(await functions.get(custom), fn);
  });

  test('disabled, 128-char name, maximum timeout', async () => {
    const name = ('x' + uid().repeat(20)).slice(0, 128);
    const fn = await tracker.create({ name, enabled: false, timeout: 900 });
    assert.equal(fn.name, name);
    assert.equal(fn.enabled, false);
    assert.equal(fn.timeout, 900);
    assert.equal((await functions.get(fn.$id)).enabled, false);
  });

  test('the same custom id twice is 409 function_already_exists', async () => {
    const custom = `dup${uid()}`;
    await tracker.create({ functionId: custom, name: 'first' });
    const err = await expectError(functions.create(custom, 'second', [], NODE_RUNTIME), 409, 'function_already_exists');
    assert.ok(err.message);
    assert.equal((await functions.get(custom)).name, 'first');
  });

  const invalid = [
    ['bad runtime', { runtime: 'cobol-1.0' }],
    ['runtime of another version', { runtime: 'node-0.1' }],
    ['invalid execute role', { execute: ['some-random-string'] }],
    ['legacy execute role', { execute: ['role:all'] }],
    ['name longer than 128', { name: 'x'.repeat(129) }],
    ['timeout zero', { timeout: 0 }],
    ['schedule not a cron', { schedule: 'every day' }],
    ['schedule with six fields', { schedule: '0 0 1 1 * *' }],
  ];
  for (const [label, overrides] of invalid) {
    test(`invalid create (${label}) is 400`, async () => {
      const custom = `bad${uid()}`;
      const o = { name: `bad ${uid()}`, execute: [], runtime: NODE_RUNTIME, ...overrides };
      await expectError(
        functions.create(custom, o.name, o.execute, o.runtime, o.events, o.schedule, o.timeout, o.enabled),
        400,
        'general_argument_invalid',
      );
      // nothing was stored
      await expectError(functions.get(custom), 404, 'function_not_found');
    });
  }

  for (const badId of ['_leading', '-leading', 'a'.repeat(37), 'with space', 'bad$id']) {
    test(`invalid custom id ${JSON.stringify(badId.slice(0, 12))} is 400`, async () => {
      await expectError(functions.create(badId, 'bad id', [], NODE_RUNTIME), 400, 'general_argument_invalid');
    });
  }

  test('get unknown function is 404 function_not_found', async () => {
    const err = await expectError(functions.get(`missing${uid()}`), 404, 'function_not_found');
    assert.ok(err.message);
  });

  test('a 40-char path id is 400', async () => {
    const tooLong = 'a'.repeat(40);
    await expectError(functions.get(tooLong), 400, 'general_argument_invalid');
    await expectError(functions.update(tooLong, 'x', []), 400, 'general_argument_invalid');
    await expectError(functions.delete(tooLong), 400, 'general_argument_invalid');
    await expectError(functions.listVariables(tooLong), 400, 'general_argument_invalid');
  });
});

describe('update and delete', () => {
  test('update with every field', async () => {
    const fn = await tracker.create({ name: `before ${uid()}` });
    await sleep(10);
    const newName = `after ${uid()}`;
    const updated = await functions.update(
      fn.$id,
      newName,
      [Role.users(), Role.team('team1', 'owner'), Role.member('member1')],
      ['users.*.update.name', 'users.*.update.email'],
      NEW_YEAR,
      5,
      false,
    );
    assertLast(200);
    assertFunctionModel(updated);
    assert.equal(updated.$id, fn.$id);
    assert.equal(updated.name, newName);
    assert.deepEqual(updated.execute, ['users', 'team:team1/owner', 'member:member1']);
    assert.deepEqual(updated.events, ['users.*.update.name', 'users.*.update.email']);
    assert.equal(updated.schedule, NEW_YEAR);
    assertNextNewYear(updated.scheduleNext);
    assert.equal(updated.schedulePrevious, '');
    assert.equal(updated.timeout, 5);
    assert.equal(updated.enabled, false);
    assert.equal(updated.runtime, fn.runtime);
    assert.equal(updated.deployment, '');
    assert.equal(updated.$createdAt, fn.$createdAt);
    assert.ok(parseDatetime(updated.$updatedAt) > parseDatetime(fn.$updatedAt));
    assert.deepEqual(await functions.get(fn.$id), updated);
  });

  test('update resets omitted fields to their defaults', async () => {
    const fn = await tracker.create({
      name: `full ${uid()}`,
      execute: [Role.any()],
      events: ['users.*.create'],
      schedule: NEW_YEAR,
      timeout: 42,
      enabled: false,
    });
    assert.notEqual(fn.scheduleNext, '');
    const newName = `bare ${uid()}`;
    // node-appwrite omits undefined params from the JSON body
    const updated = await functions.update(fn.$id, newName, []);
    assertFunctionModel(updated);
    assert.equal(updated.name, newName);
    assert.deepEqual(updated.execute, []);
    assert.deepEqual(updated.events, []);
    assert.equal(updated.schedule, '');
    assert.equal(updated.scheduleNext, '');
    assert.equal(updated.timeout, 15);
    assert.equal(updated.enabled, true);
    assert.equal(updated.runtime, NODE_RUNTIME);
    assert.deepEqual(await functions.get(fn.$id), updated);
  });

  test('update errors', async () => {
    const fn = await tracker.create();
    await expectError(functions.update(`missing${uid()}`, 'x', []), 404, 'function_not_found');
    await expectError(functions.update(fn.$id, 'y'.repeat(129), []), 400, 'general_argument_invalid');
    await expectError(functions.update(fn.$id, 'ok', ['some-random-string']), 400, 'general_argument_invalid');
    await expectError(functions.update(fn.$id, 'ok', [], undefined, undefined, 0), 400, 'general_argument_invalid');
    await expectError(functions.update(fn.$id, 'ok', [], undefined, 'not cron'), 400, 'general_argument_invalid');
    assert.deepEqual(await functions.get(fn.$id), fn);
  });

  test('delete', async () => {
    const fn = await tracker.create();
    assert.equal(await functions.delete(fn.$id), '');
    assertLast(204);
    await expectError(functions.get(fn.$id), 404, 'function_not_found');
    await expectError(functions.delete(fn.$id), 404, 'function_not_found');
    assert.equal((await functions.list(undefined, fn.$id)).total, 0);
  });
});

describe('list', () => {
  // created in the order charlie, alpha, bravo; alpha is disabled and runs python
  const token = uid();
  const trio = {};
  let names;
  let byNames;

  before(async () => {
    const specs = [
      ['charlie', `lc${token}`, NODE_RUNTIME, true],
      ['alpha', `la${token}`, PYTHON_RUNTIME, false],
      ['bravo', `lb${token}`, NODE_RUNTIME, true],
    ];
    for (const [label, functionId, runtime, enabled] of specs) {
      trio[label] = await tracker.create({ functionId, name: `${label}${token}`, runtime, enabled });
      await sleep(20); // distinct $createdAt values for the ordering checks
    }
    names = [trio.charlie.name, trio.alpha.name, trio.bravo.name];
    byNames = Query.equal('name', names);
  });

  test('plain', async () => {
    const page = await functions.list();
    assert.deepEqual(Object.keys(page).sort(), ['functions', 'total']);
    assert.ok(Number.isInteger(page.total));
    assert.ok(page.total >= 3);
    assert.equal(page.functions.length, Math.min(page.total, 25));
    page.functions.forEach(assertFunctionModel);
    const listed = ids(page);
    assert.equal(new Set(listed).size, listed.length);
    if (page.total <= 25) {
      const positions = ['charlie', 'alpha', 'bravo'].map((k) => listed.indexOf(trio[k].$id));
      assert.ok(positions.every((p) => p >= 0));
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
    }
  });

  test('equal name', async () => {
    const page = await functions.list([byNames]);
    assert.equal(page.total, 3);
    assert.deepEqual(ids(page), [trio.charlie.$id, trio.alpha.$id, trio.bravo.$id]);
    page.functions.forEach(assertFunctionModel);
    assert.deepEqual(page.functions[1], await functions.get(trio.alpha.$id));

    const single = await functions.list([Query.equal('name', [trio.bravo.name])]);
    assert.equal(single.total, 1);
    assert.deepEqual(ids(single), [trio.bravo.$id]);

    const none = await functions.list([Query.equal('name', [`nothing${uid()}`])]);
    assert.deepEqual(none, { total: 0, functions: [] });
  });

  test('equal enabled', async () => {
    const enabled = await functions.list([byNames, Query.equal('enabled', [true])]);
    assert.equal(enabled.total, 2);
    assert.deepEqual(ids(enabled), [trio.charlie.$id, trio.bravo.$id]);
    assert.ok(enabled.functions.every((fn) => fn.enabled === true));

    const disabled = await functions.list([byNames, Query.equal('enabled', [false])]);
    assert.equal(disabled.total, 1);
    assert.deepEqual(ids(disabled), [trio.alpha.$id]);
    assert.equal(disabled.functions[0].enabled, false);
  });

  test('limit and offset', async () => {
    const zero = await functions.list([byNames, Query.limit(0)]);
    assert.equal(zero.total, 3); // total counts the filters only
    assert.deepEqual(zero.functions, []);

    const one = await functions.list([byNames, Query.limit(1)]);
    assert.equal(one.total, 3);
    assert.deepEqual(ids(one), [trio.charlie.$id]);

    const skipped = await functions.list([byNames, Query.offset(1)]);
    assert.equal(skipped.total, 3);
    assert.deepEqual(ids(skipped), [trio.alpha.$id, trio.bravo.$id]);

    const window = await functions.list([byNames, Query.offset(1), Query.limit(1)]);
    assert.deepEqual(ids(window), [trio.alpha.$id]);

    const pastEnd = await functions.list([byNames, Query.offset(3)]);
    assert.equal(pastEnd.total, 3);
    assert.deepEqual(pastEnd.functions, []);
  });

  test('cursors', async () => {
    const afterFirst = await functions.list([byNames, Query.cursorAfter(trio.charlie.$id)]);
    assert.equal(afterFirst.total, 3);
    assert.deepEqual(ids(afterFirst), [trio.alpha.$id, trio.bravo.$id]);

    const afterFirstOne = await functions.list([byNames, Query.cursorAfter(trio.charlie.$id), Query.limit(1)]);
    assert.deepEqual(ids(afterFirstOne), [trio.alpha.$id]);

    const afterLast = await functions.list([byNames, Query.cursorAfter(trio.bravo.$id)]);
    assert.deepEqual(afterLast.functions, []);

    const beforeLast = await functions.list([byNames, Query.cursorBefore(trio.bravo.$id)]);
    assert.equal(beforeLast.total, 3);
    assert.deepEqual(ids(beforeLast), [trio.charlie.$id, trio.alpha.$id]);

    const beforeLastOne = await functions.list([byNames, Query.cursorBefore(trio.bravo.$id), Query.limit(1)]);
    assert.deepEqual(ids(beforeLastOne), [trio.alpha.$id]);

    const beforeFirst = await functions.list([byNames, Query.cursorBefore(trio.charlie.$id)]);
    assert.deepEqual(beforeFirst.functions, []);
  });

  test('order', async () => {
    const newestFirst = await functions.list([byNames, Query.orderDesc('$createdAt')]);
    assert.equal(newestFirst.total, 3);
    assert.deepEqual(ids(newestFirst), [trio.bravo.$id, trio.alpha.$id, trio.charlie.$id]);

    const byName = await functions.list([byNames, Query.orderAsc('name')]);
    assert.deepEqual(ids(byName), [trio.alpha.$id, trio.bravo.$id, trio.charlie.$id]);

    const byNameDesc = await functions.list([byNames, Query.orderDesc('name')]);
    assert.deepEqual(ids(byNameDesc), [trio.charlie.$id, trio.bravo.$id, trio.alpha.$id]);

    const oldestFirst = await functions.list([byNames, Query.orderAsc('$createdAt'), Query.limit(2)]);
    assert.deepEqual(ids(oldestFirst), [trio.charlie.$id, trio.alpha.$id]);
  });

  test('search', async () => {
    const byId = await functions.list(undefined, trio.alpha.$id);
    assert.equal(byId.total, 1);
    assert.deepEqual(ids(byId), [trio.alpha.$id]);

    const byName = await functions.list(undefined, trio.bravo.name);
    assert.equal(byName.total, 1);
    assert.deepEqual(ids(byName), [trio.bravo.$id]);

    const python = await functions.list([byNames], PYTHON_RUNTIME);
    assert.equal(python.total, 1);
    assert.deepEqual(ids(python), [trio.alpha.$id]);

    const node = await functions.list([byNames], NODE_RUNTIME);
    assert.equal(node.total, 2);
    assert.deepEqual(ids(node), [trio.charlie.$id, trio.bravo.$id]);
    assert.ok(node.functions.every((fn) => fn.runtime === NODE_RUNTIME));

    const nothing = await functions.list(undefined, `zz${uid()}`);
    assert.deepEqual(nothing, { total: 0, functions: [] });
  });

  const badQueries = [
    'this is not a query',
    'equal("name", ["x"]',
    'contains("name", ["x"])',
    'name.equal("x")',
    Query.equal('unknownAttribute', ['x']),
    Query.orderAsc('unknownAttribute'),
    Query.equal('enabled', ['yes']),
    Query.limit(101),
    Query.limit(-1),
  ];
  for (const query of badQueries) {
    test(`invalid query ${query} is 400`, async () => {
      await expectError(functions.list([query]), 400, 'general_argument_invalid');
    });
  }

  test('unknown cursor is 400 general_cursor_not_found', async () => {
    const err = await expectError(functions.list([Query.cursorAfter('unknown')]), 400, 'general_cursor_not_found');
    assert.ok(err.message);
    await expectError(functions.list([Query.cursorBefore(`gone${uid()}`)]), 400, 'general_cursor_not_found');
  });
});

describe('runtimes', () => {
  test('list runtimes', async () => {
    const page = await functions.listRuntimes();
    assertLast(200);
    assert.deepEqual(Object.keys(page).sort(), ['runtimes', 'total']);
    assert.ok(page.total > 0);
    assert.equal(page.total, page.runtimes.length);
    const byId = new Map();
    for (const runtime of page.runtimes) {
      assert.deepEqual(Object.keys(runtime).sort(), [...RUNTIME_FIELDS].sort(), `fields of ${runtime.$id}`);
      for (const field of ['$id', 'name', 'version', 'base', 'image', 'logo']) {
        assert.equal(typeof runtime[field], 'string', `${field} of ${runtime.$id}`);
      }
      assert.ok(Array.isArray(runtime.supports));
      assert.ok(runtime.supports.every((arch) => typeof arch === 'string'));
      assert.equal(runtime.$id, `${runtime.$id.slice(0, runtime.$id.lastIndexOf('-'))}-${runtime.version}`);
      byId.set(runtime.$id, runtime);
    }
    assert.equal(byId.size, page.runtimes.length, 'runtime ids are not unique');
    assert.ok(byId.has(NODE_RUNTIME), `no ${NODE_RUNTIME} in ${[...byId.keys()]}`);
    assert.ok(byId.has(PYTHON_RUNTIME), `no ${PYTHON_RUNTIME} in ${[...byId.keys()]}`);
    assert.equal(byId.get(NODE_RUNTIME).version, '20.0');
    assert.equal(byId.get(NODE_RUNTIME).name, 'Node.js');
    assert.equal(byId.get(PYTHON_RUNTIME).version, '3.11');
    assert.equal(byId.get(PYTHON_RUNTIME).name, 'Python');
  });

  test('every listed runtime can be used to create a function', async () => {
    const { runtimes } = await functions.listRuntimes();
    for (const runtime of runtimes) {
      const fn = await tracker.create({ runtime: runtime.$id });
      assert.equal(fn.runtime, runtime.$id);
    }
  });
});
