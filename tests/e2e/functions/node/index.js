// The Node.js test function of the e2e suites (v2 runtime contract: module.exports = async (req, res)).
// Both suites pack this folder into a tar.gz at test time. What it does depends on `req.payload`
// (the part before a first ":", so "slow:7" is "slow"):
//   "throw"    throws an Error                 "notfound" answers res.send(text, 404)
//   "sleep"    waits 5 s before answering      "slow"     waits 150 ms before answering
//   "stderr"   also writes a line with console.error
//   anything else: answers res.json(...) with what the function received (see below).
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const SYSTEM_KEYS = [
  'APPWRITE_FUNCTION_ID', 'APPWRITE_FUNCTION_NAME', 'APPWRITE_FUNCTION_DEPLOYMENT',
  'APPWRITE_FUNCTION_PROJECT_ID', 'APPWRITE_FUNCTION_TRIGGER', 'APPWRITE_FUNCTION_RUNTIME_NAME',
  'APPWRITE_FUNCTION_RUNTIME_VERSION', 'APPWRITE_FUNCTION_EVENT', 'APPWRITE_FUNCTION_EVENT_DATA',
  'APPWRITE_FUNCTION_DATA', 'APPWRITE_FUNCTION_USER_ID', 'APPWRITE_FUNCTION_JWT', 'CUSTOM_VARIABLE',
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function blobInfo() {
  // A large random file shipped next to this one by the chunked-upload tests.
  const file = path.join(__dirname, 'blob.bin');
  if (!fs.existsSync(file)) return null;
  const bytes = fs.readFileSync(file);
  return { size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}

module.exports = async (req, res) => {
  const mode = req.payload.split(':')[0];
  console.log(`node handler got ${req.payload}`);
  if (mode === 'throw') {
    throw new Error('node handler exploded on purpose');
  }
  if (mode === 'notfound') {
    return res.send('node: nothing here', 404);
  }
  if (mode === 'sleep') {
    await sleep(5000);
  }
  if (mode === 'slow') {
    await sleep(150);
  }
  if (mode === 'stderr') {
    console.error('node handler wrote to stderr');
  }
  const env = {};
  for (const key of SYSTEM_KEYS) {
    env[key] = process.env[key] === undefined ? null : process.env[key];
  }
  let packageName = null;
  try {
    packageName = require('./package.json').name;
  } catch {
    // deployed without a package.json
  }
  return res.json({
    runtime: 'node',
    variables: req.variables,
    env,
    payload: req.payload,
    headers: req.headers,
    utf8: 'êä',
    here: __dirname,
    packageName,
    blob: blobInfo(),
  });
};
