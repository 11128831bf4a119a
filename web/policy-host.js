// A host for switchyard policies in the browser: ABI v1 (docs/policy-abi.md), the same modules and the same
// answers as `switchyard check`. A standalone ES module; the playground imports it when it shows policies.
//
//   import { runPolicy } from './policy-host.js';
//   const answer = await runPolicy(bytes, inputJson, { name: 'canary-25.wasm', timeoutMs: 2000 });
//   // {findings: [{code, severity, message, path?, hint?, hints?, file?, line?, column?}, ...]}
//   // or {error: 'policy canary-25.wasm: ...'}
//
// Untrusted by default: a module with any import is refused before it is instantiated; it runs in a dedicated
// Worker (policy-worker.js, served beside this file) that is terminated at the deadline (a hanging module cannot freeze the page; browsers have no fuel,
// so the deadline stands in for it); a module whose declared initial memory is over the limit is refused and
// the memory's size is checked after the run; the answer's length is checked before it is decoded.

export const ABI_VERSION = 1;
const ALLOC = 'switchyard_alloc';
const ENTRY = 'switchyard_policy_v1';

export const DEFAULT_LIMITS = Object.freeze({
  timeoutMs: 10_000,
  maxMemoryBytes: 512 * 1024 * 1024,
  maxOutputBytes: 8 * 1024 * 1024,
});

// The memory a module declares (its own or none), from the binary: section 5, the first memory's limits.
function declaredMemory(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let i = 8;
  const leb = () => {
    let result = 0, shift = 0, byte;
    do {
      if (i >= b.length) throw new Error('truncated');
      byte = b[i++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  while (i < b.length) {
    const id = b[i++];
    const size = leb();
    const end = i + size;
    if (id === 5) {
      const count = leb();
      if (count === 0) return null;
      const flags = leb();
      const initial = leb();
      const maximum = flags & 1 ? leb() : null;
      return { initialBytes: initial * 65536, maximumBytes: maximum === null ? null : maximum * 65536, is64: (flags & 4) !== 0 };
    }
    i = end;
  }
  return null;
}

// The findings of an answer, checked as the CLI checks them; or an error string.
function checkAnswer(text) {
  let answer;
  try {
    answer = JSON.parse(text);
  } catch (e) {
    return { error: 'its answer is not ABI v1 JSON: ' + e.message };
  }
  if (answer && typeof answer.error === 'string') return { error: 'could not decide: ' + answer.error.slice(0, 2000) };
  if (!answer || !Array.isArray(answer.findings)) {
    return { error: 'its answer is not ABI v1 JSON ({"findings":[...]} or {"error":"..."})' };
  }
  for (const [i, f] of answer.findings.entries()) {
    if (!f || typeof f.code !== 'string' || !/^[A-Za-z0-9._\/-]{1,64}$/.test(f.code)) {
      return { error: 'finding ' + i + ' has no valid code (1 to 64 letters, digits, ".", "_", "/", "-")' };
    }
    if (!['error', 'warning', 'info'].includes(f.severity) || typeof f.message !== 'string') {
      return { error: 'finding ' + i + ' is not ABI v1 JSON (severity error|warning|info, a message)' };
    }
  }
  return { findings: answer.findings };
}

// Runs one policy module (bytes: ArrayBuffer or Uint8Array of a binary module) on the input JSON string.
// Never throws: every failure is {error: 'policy NAME: ...'} naming the limit it hit.
export async function runPolicy(bytes, input, options = {}) {
  const limits = { ...DEFAULT_LIMITS, ...options };
  const name = options.name || 'module';
  const fail = (message) => ({ error: 'policy ' + name + ': ' + message });
  let module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (e) {
    return fail('is not a valid module: ' + e.message);
  }
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) {
    const list = imports.map((i) => i.module + '.' + i.name).join(', ');
    return fail('imports ' + list + '; a policy may import nothing (ABI v1), so it was not run');
  }
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  for (const [exportName, kind] of [['memory', 'memory'], [ALLOC, 'function'], [ENTRY, 'function']]) {
    if (exports.get(exportName) !== kind) {
      return fail('does not export `' + exportName + '` (a ' + kind + '); it is not an ABI v1 policy');
    }
  }
  let memory = null;
  try {
    memory = declaredMemory(bytes);
  } catch (e) {
    return fail('is not a valid module: ' + e.message);
  }
  if (memory && memory.initialBytes > limits.maxMemoryBytes) {
    return fail('went over its memory limit of ' + limits.maxMemoryBytes + ' bytes (it declares ' + memory.initialBytes + ')');
  }
  // A file beside this one, not a blob: a page's Content-Security-Policy may allow workers from 'self' only.
  const worker = new Worker(new URL('./policy-worker.js', import.meta.url));
  const result = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      worker.terminate();
      resolve({ error: 'passed its deadline of ' + limits.timeoutMs + ' ms' });
    }, limits.timeoutMs);
    worker.onmessage = (event) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      clearTimeout(timer);
      worker.terminate();
      resolve({ error: 'failed: ' + (event.message || 'the worker died (out of memory?)') });
    };
    worker.postMessage({
      module,
      input,
      maxMemoryBytes: limits.maxMemoryBytes,
      maxOutputBytes: limits.maxOutputBytes,
    });
  });
  if (result.error) return fail(result.error);
  const checked = checkAnswer(result.answer);
  // `text`: the answer as the module wrote it, for a host that reads it itself (the playground's model does).
  return checked.error ? fail(checked.error) : { ...checked, text: result.answer };
}
