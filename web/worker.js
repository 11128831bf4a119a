// The playground's worker: it loads the model (compiled to WebAssembly) and runs every call into it, so
// the page never waits on rendering, however large the spec. Messages in: { id, fn, args }; out:
// { id, result, ms } with the adapter's JSON already parsed, or { id, error }.
//
// The adapter (crates/wasm) makes every decision; this file only forwards.

import init, * as model from './pkg/switchyard_wasm.js';

const ready = init();

const calls = {
  example_spec: () => model.example_spec(),
  view: (spec, states, app, env) => model.view(spec, states, app, env),
  apply: (spec, states, app, env, request, now) => model.apply(spec, states, app, env, request, BigInt(now)),
  render: (spec, states) => model.render(spec, states),
  // Coming with the validator: `simulate` (who answers a request, and the split of N requests) and
  // `check_traefik` (findings for any Traefik dynamic configuration) will be forwarded here.
};

// The last spec and states received: the page sends `null` for the one that did not change.
const last = { spec: '', states: '' };

self.onmessage = async (event) => {
  const { id, fn, args } = event.data;
  if (fn === 'view' || fn === 'apply') {
    if (args[0] === null) args[0] = last.spec;
    else last.spec = args[0];
    if (args[1] === null) args[1] = last.states;
    else last.states = args[1];
  }
  try {
    await ready;
    const call = calls[fn];
    if (!call) throw new Error(`no such call: ${fn}`);
    const start = performance.now();
    const text = call(...args);
    const result = typeof text === 'string' && fn !== 'example_spec' ? JSON.parse(text) : text;
    self.postMessage({ id, result, ms: performance.now() - start });
  } catch (err) {
    self.postMessage({ id, error: String((err && err.stack) || err) });
  }
};
