// One policy evaluation (ABI v1, docs/policy-abi.md), in a worker of its own that policy-host.js terminates at
// the deadline. A file rather than a blob: the playground's Content-Security-Policy allows workers from 'self'
// only. In: { module, input, maxMemoryBytes, maxOutputBytes }; out: { answer } (the answer's text) or { error }.

const ALLOC = 'switchyard_alloc';
const ENTRY = 'switchyard_policy_v1';

self.onmessage = async (event) => {
  const { module, input, maxMemoryBytes, maxOutputBytes } = event.data;
  const fail = (error) => self.postMessage({ error });
  let instance;
  try {
    // No imports at all: the host checked that the module asks for none.
    instance = await WebAssembly.instantiate(module, {});
  } catch (e) {
    return fail(`could not be instantiated: ${e}`);
  }
  const { memory } = instance.exports;
  const alloc = instance.exports[ALLOC];
  const entry = instance.exports[ENTRY];
  const overMemory = () => memory.buffer.byteLength > maxMemoryBytes;
  const memoryError = () =>
    `went over its memory limit of ${maxMemoryBytes} bytes (it has ${memory.buffer.byteLength})`;
  if (overMemory()) return fail(memoryError());
  const bytes = new TextEncoder().encode(input);
  let packed;
  try {
    const ptr = alloc(bytes.length) >>> 0;
    if (ptr + bytes.length > memory.buffer.byteLength) {
      return fail(`${ALLOC}(${bytes.length}) returned ${ptr}, which is not that many bytes of its memory`);
    }
    new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    packed = entry(ptr, bytes.length);
  } catch (e) {
    if (overMemory()) return fail(memoryError());
    return fail(`trapped during ${ENTRY}: ${e}`);
  }
  if (overMemory()) return fail(memoryError());
  if (typeof packed !== 'bigint') return fail(`${ENTRY} did not return an i64`);
  packed = BigInt.asUintN(64, packed);
  const ptr = Number(packed >> 32n);
  const len = Number(packed & 0xffffffffn);
  if (len > maxOutputBytes) return fail(`answered ${len} bytes, over the limit of ${maxOutputBytes} bytes`);
  if (ptr + len > memory.buffer.byteLength) return fail(`answered at ${ptr} (${len} bytes), outside its memory`);
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(memory.buffer, ptr, len));
  } catch (e) {
    return fail('its answer is not UTF-8');
  }
  self.postMessage({ answer: text });
};
