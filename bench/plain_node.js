// The Node baseline for the warm-overhead figure: a plain `http` server on loopback that runs
// the same hello handler the harness deploys to functiond (bench/functions/node/index.js).
// Per request it does what a function call needs at the least: read the JSON body, hand its
// `data` to the handler as `req.payload`, and send what the handler sends. Keep-alive is on.
// Usage: node bench/plain_node.js PORT   (prints "ready" once listening)
'use strict';

const http = require('http');
const path = require('path');

const handler = require(path.join(__dirname, 'functions', 'node', 'index.js'));
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node plain_node.js PORT');
  process.exit(2);
}

function reply(response, status, text) {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', async () => {
    let payload = '';
    try {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw === '' ? {} : JSON.parse(raw);
      payload = typeof body.data === 'string' ? body.data : '';
    } catch (error) {
      reply(response, 400, 'invalid JSON body');
      return;
    }
    let sent = false;
    const req = { payload, headers: request.headers, variables: {} };
    const res = {
      send(text, status = 200) {
        sent = true;
        reply(response, status, String(text));
      },
      json(value, status = 200) {
        this.send(JSON.stringify(value), status);
      },
    };
    try {
      await handler(req, res);
      if (!sent) reply(response, 200, '');
    } catch (error) {
      if (!sent) reply(response, 500, String(error && error.stack ? error.stack : error));
    }
  });
});

server.keepAliveTimeout = 120000;
server.listen(port, '127.0.0.1', () => console.log('ready'));

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
