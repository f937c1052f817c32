#!/usr/bin/env node
// Decodes one Sparkplug B payload with Eclipse Tahu's sparkplug-payload (a decoder no one in this project wrote)
// and prints it as JSON on stdout. 64-bit values (Long objects) are printed as decimal strings so nothing is
// rounded through a JavaScript number.
// Usage: node decode.js <payload-file>     (or: node decode.js - < payload)
'use strict';
const fs = require('fs');
const Long = require('long');
const sparkplug = require('sparkplug-payload').get('spBv1.0');

const source = process.argv[2];
if (!source) {
  process.stderr.write('usage: node decode.js <payload-file | ->\n');
  process.exit(2);
}

let bytes;
try {
  bytes = source === '-' ? fs.readFileSync(0) : fs.readFileSync(source);
} catch (err) {
  process.stderr.write(`decode.js: cannot read ${source}: ${err.message}\n`);
  process.exit(2);
}

function plain(value) {
  if (Long.isLong(value)) return value.toString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

try {
  const payload = sparkplug.decodePayload(new Uint8Array(bytes));
  process.stdout.write(JSON.stringify(plain(payload)) + '\n');
} catch (err) {
  process.stderr.write(`decode.js: ${source} is not a Sparkplug B payload: ${err.message}\n`);
  process.exit(1);
}
