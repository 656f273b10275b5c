// functiond's Node.js runtime shim (v2 contract).
//
// Started by the executor as `node shim.cjs <socket> <code-dir> <entrypoint>`. It loads the
// user's entrypoint once, connects to the executor's unix socket (connecting is the "ready"
// signal), then serves invocations one at a time. Frames in both directions are a 4-byte
// big-endian length followed by that many bytes of UTF-8 JSON.
//
//   request:  {"variables": {..}, "payload": "..", "headers": {..}}
//   response: {"statusCode": 200, "response": "..", "stdout": "..", "stderr": ".."}
//
// A handler answers with res.send(text, status) or res.json(value, status). One that never
// answers gets no reply: the executor's timeout ends it, as in open-runtimes v2.
'use strict';

const net = require('net');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');
const { AsyncLocalStorage } = require('async_hooks');

const [socketPath, codeDir, entrypoint] = process.argv.slice(2);

// What one stream may hold per call; the executor cuts to the exact byte limit.
const KEEP = 1000000;
// A request is small (payload <= 8192 chars plus variables); anything far larger is a bug.
const MAX_FRAME = 64 * 1024 * 1024;

// Log lines belong to the call whose async context printed them, even when a timer of an
// earlier call fires later; output outside any call goes to the process's own streams.
const calls = new AsyncLocalStorage();

class Log {
  constructor() {
    this.lines = [];
    this.size = 0;
  }

  push(line) {
    if (this.size >= KEEP) return;
    this.lines.push(line);
    this.size += line.length + 1;
  }

  text() {
    return wellFormed(this.lines.join('\n')).slice(0, KEEP);
  }
}

const original = {
  log: console.log,
  info: console.info,
  debug: console.debug,
  error: console.error,
  warn: console.warn,
};

function capture(stream, fallback) {
  return (...args) => {
    const call = calls.getStore();
    if (call && !call.answered) {
      call[stream].push(util.format(...args));
    } else {
      fallback.apply(console, args);
    }
  };
}

console.log = capture('stdout', original.log);
console.info = capture('stdout', original.info);
console.debug = capture('stdout', original.debug);
console.error = capture('stderr', original.error);
console.warn = capture('stderr', original.warn);

// Lone surrogates would make the JSON frame invalid UTF-8 for the executor.
function wellFormed(text) {
  return Buffer.from(String(text), 'utf8').toString('utf8');
}

function asText(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function describe(error) {
  if (error && error.stack) return String(error.stack);
  return util.inspect(error);
}

async function load() {
  const file = path.resolve(codeDir, entrypoint);
  let exported;
  try {
    exported = require(file);
  } catch (error) {
    if (!error || error.code !== 'ERR_REQUIRE_ESM') throw error;
    exported = await import(pathToFileURL(file).href);
  }
  if (typeof exported === 'function') return exported;
  if (exported && typeof exported.default === 'function') return exported.default;
  throw new Error(
    `The entrypoint "${entrypoint}" must export a function (module.exports = async (req, res) => {...}).`,
  );
}

// Variables that change with every call. They are in the environment only while the call
// runs, so one caller's data or JWT never lingers for the next caller.
const PER_CALL = [
  'APPWRITE_FUNCTION_TRIGGER',
  'APPWRITE_FUNCTION_EVENT',
  'APPWRITE_FUNCTION_EVENT_DATA',
  'APPWRITE_FUNCTION_DATA',
  'APPWRITE_FUNCTION_USER_ID',
  'APPWRITE_FUNCTION_JWT',
];

function invoke(handler, request) {
  return new Promise((resolve) => {
    const call = { stdout: new Log(), stderr: new Log(), answered: false };
    const variables = request.variables || {};
    for (const name of PER_CALL) process.env[name] = String(variables[name] ?? '');
    const answer = (statusCode, response) => {
      if (call.answered) return;
      call.answered = true;
      for (const name of PER_CALL) delete process.env[name];
      resolve({
        statusCode,
        response: wellFormed(response).slice(0, KEEP),
        stdout: call.stdout.text(),
        stderr: call.stderr.text(),
      });
    };
    const req = {
      variables,
      payload: typeof request.payload === 'string' ? request.payload : '',
      headers: request.headers || {},
    };
    const res = {
      send: (text, status = 200) => answer(Number(status), asText(text)),
      json: (value, status = 200) => answer(Number(status), asText(JSON.stringify(value))),
    };
    calls.run(call, () => {
      Promise.resolve()
        .then(() => handler(req, res))
        .catch((error) => {
          if (call.answered) {
            original.error(describe(error));
            return;
          }
          call.stderr.push(describe(error));
          answer(500, '');
        });
    });
  });
}

function frame(value) {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

function serve(handler) {
  const socket = net.createConnection(socketPath);
  let pending = Buffer.alloc(0);
  let queue = Promise.resolve();

  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (length > MAX_FRAME) {
        original.error(`functiond shim: refusing a ${length}-byte frame`);
        process.exit(70);
      }
      if (pending.length < 4 + length) break;
      const request = JSON.parse(pending.subarray(4, 4 + length).toString('utf8'));
      pending = pending.subarray(4 + length);
      // One call at a time, in order.
      queue = queue.then(async () => socket.write(frame(await invoke(handler, request))));
    }
  });
  // The executor owns the instance: when it hangs up, the instance is done.
  socket.on('close', () => process.exit(0));
  socket.on('error', (error) => {
    original.error(`functiond shim: socket error: ${describe(error)}`);
    process.exit(70);
  });
}

load().then(serve, (error) => {
  original.error(describe(error));
  process.exit(1);
});
