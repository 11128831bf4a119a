// Checks web/policy-host.js under Node (no browser needed): `node web/policy-host.test.mjs [model.wasm]`.
// Node has no Web Worker; a small stand-in runs the host's worker source in a worker_threads thread, which is
// enough to check the ABI handling, the refusals and the deadline. The browser itself is not exercised here.
import { readFileSync } from 'node:fs';
import { Worker as NodeWorker } from 'node:worker_threads';
import assert from 'node:assert/strict';

// The stand-ins: Blob keeps its source, URL.createObjectURL hands it over, Worker runs it in worker_threads.
const sources = new Map();
globalThis.Blob = class { constructor(parts) { this.source = parts.join(''); } };
URL.createObjectURL = (blob) => { const url = 'blob:' + sources.size; sources.set(url, blob.source); return url; };
URL.revokeObjectURL = () => {};
globalThis.Worker = class {
  constructor(url) {
    const prelude = "const { parentPort } = require('node:worker_threads');" +
      'const self = { postMessage: (m) => parentPort.postMessage(m) };' +
      "parentPort.on('message', (data) => self.onmessage({ data }));";
    this.worker = new NodeWorker(prelude + sources.get(url), { eval: true });
    this.worker.on('message', (data) => this.onmessage && this.onmessage({ data }));
    this.worker.on('error', (e) => this.onerror && this.onerror({ message: String(e) }));
  }
  postMessage(m) { this.worker.postMessage(m); }
  terminate() { this.worker.terminate(); }
};

const { runPolicy } = await import('./policy-host.js');

// Tiny modules, assembled by hand. Sections: type, import, function, memory, export, code, data.
const bytes = (...parts) => new Uint8Array(parts.flat());
const str = (s) => [s.length, ...new TextEncoder().encode(s)];
const section = (id, body) => [id, body.length, ...body];
const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
// types: 0 = (i32) -> i32, 1 = (i32 i32) -> i64
const types = section(1, [2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7e]);
const functions = section(3, [2, 0, 1]);
const memory = (pages) => section(5, [1, 0, pages]);
const exports = section(7, [3, ...str('memory'), 2, 0, ...str('switchyard_alloc'), 0, 0, ...str('switchyard_policy_v1'), 0, 1]);
const body = (code) => [code.length + 1, 0, ...code];
// alloc: i32.const 1024; entry: `entry`
const code = (entry) => { const b = [...body([0x41, 0x80, 0x08, 0x0b]), ...body(entry)]; return section(10, [2, ...b]); };
const data = (text) => { const t = [...new TextEncoder().encode(text)]; return section(11, [1, 0, 0x41, 0, 0x0b, t.length, ...t]); };
const i64 = (n) => { const out = [0x42]; let v = BigInt(n); for (;;) { const b = Number(v & 0x7fn); v >>= 7n; if ((v === 0n && !(b & 0x40)) || (v === -1n && (b & 0x40))) { out.push(b); return out; } out.push(b | 0x80); } };
const answering = (text) => bytes(header, types, functions, memory(1), exports, code([...i64(text.length), 0x0b]), data(text));

const input = JSON.stringify({ abi: 1, change: null, spec: { apps: {} } });

let r = await runPolicy(answering('{"findings":[{"code":"T1","severity":"warning","message":"hi"}]}'), input, { name: 'good' });
assert.deepEqual(r, { findings: [{ code: 'T1', severity: 'warning', message: 'hi' }] });

// An import: refused before it runs.
r = await runPolicy(bytes(header, section(1, [1, 0x60, 0, 0]), section(2, [1, ...str('env'), ...str('now'), 0, 0])), input, { name: 'imports' });
assert.match(r.error, /^policy imports: imports env\.now; a policy may import nothing/);

// An infinite loop: stopped at the deadline.
const started = Date.now();
r = await runPolicy(bytes(header, types, functions, memory(1), exports, code([0x03, 0x40, 0x0c, 0x00, 0x0b, ...i64(0), 0x0b])), input, { name: 'spin', timeoutMs: 300 });
assert.equal(r.error, 'policy spin: passed its deadline of 300 ms');
assert.ok(Date.now() - started < 3000);

// A trap, an answer over the limit, outside the memory, not UTF-8, not JSON, an error answer, missing exports.
r = await runPolicy(bytes(header, types, functions, memory(1), exports, code([0x00, 0x0b])), input, { name: 'trap' });
assert.match(r.error, /^policy trap: trapped: RuntimeError: unreachable/);
r = await runPolicy(bytes(header, types, functions, memory(1), exports, code([...i64(100_000_000), 0x0b])), input, { name: 'huge', maxOutputBytes: 1 << 20 });
assert.equal(r.error, 'policy huge: answered 100000000 bytes, over the limit of 1048576 bytes');
r = await runPolicy(bytes(header, types, functions, memory(1), exports, code([...i64(0xfff000000100n), 0x0b])), input, { name: 'outside' });
assert.match(r.error, /outside its memory/);
const rawData = section(11, [1, 0, 0x41, 0, 0x0b, 2, 0xff, 0xfe]);
r = await runPolicy(bytes(header, types, functions, memory(1), exports, code([...i64(2), 0x0b]), rawData), input, { name: 'utf8' });
assert.equal(r.error, 'policy utf8: its answer is not UTF-8');
r = await runPolicy(answering('nope'), input, { name: 'json' });
assert.match(r.error, /^policy json: its answer is not ABI v1 JSON/);
r = await runPolicy(answering('{"error":"no"}'), input, { name: 'err' });
assert.equal(r.error, 'policy err: could not decide: no');
r = await runPolicy(bytes(header, memory(1), section(7, [1, ...str('memory'), 2, 0])), input, { name: 'bare' });
assert.match(r.error, /does not export `switchyard_alloc`/);
// Declared memory over the limit.
r = await runPolicy(bytes(header, types, functions, memory(100), exports, code([...i64(0), 0x0b])), input, { name: 'big', maxMemoryBytes: 1 << 20 });
assert.match(r.error, /^policy big: went over its memory limit of 1048576 bytes/);

// The model's own policy, when its path is given.
if (process.argv[2]) {
  const model = readFileSync(process.argv[2]);
  r = await runPolicy(model, input, { name: 'switchyard-model.wasm' });
  assert.deepEqual(r.findings.map((f) => f.code), ['SY0102'], JSON.stringify(r));
  const spec = { apps: { whoami: { compose: 'c.yaml', routes: { web: { port: 80 } }, environments: { dev: { domain: 'dev.example.com' } } } } };
  r = await runPolicy(model, JSON.stringify({ abi: 1, change: null, spec, after: [] }), { name: 'switchyard-model.wasm' });
  assert.deepEqual(r, { findings: [] });
}
console.log('policy-host.js: all checks passed');
