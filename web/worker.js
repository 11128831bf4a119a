// The playground's worker: it loads the model (compiled to WebAssembly) and runs every call into it, so
// the page never waits on rendering, however large the spec. Messages in: { id, fn, args }; out:
// { id, result, ms } with the adapter's JSON already parsed, or { id, error }.
//
// The adapter (crates/wasm) makes every decision; this file only forwards.
//
// Two modules: the workflow's (loaded with the page) and the validator, request simulator, policies' and
// diff's (`switchyard_inspect`), imported the first time a call needs it, that is when its panel is first
// opened.

import init, * as model from './pkg/switchyard_wasm.js';

const ready = init();

let inspectModule = null;
function inspect() {
  if (!inspectModule) {
    inspectModule = import('./pkg/switchyard_inspect.js').then(async (m) => {
      await m.default();
      return m;
    });
  }
  return inspectModule;
}

const calls = {
  example_spec: () => model.example_spec(),
  view: (spec, states, app, env) => model.view(spec, states, app, env),
  apply: (spec, states, app, env, request, now) => model.apply(spec, states, app, env, request, BigInt(now)),
  describe_request: (request) => model.describe_request(request),
  render: (spec, states) => model.render(spec, states),
  load_inspect: async () => { await inspect(); return 'true'; },
  check_traefik: async (file, text) => (await inspect()).check_traefik(file, text),
  route: async (file, config, versions, request, files) => (await inspect()).route(file, config, versions, request, files ?? ""),
  policy_input: async (spec, states, app, env, request, now) =>
    (await inspect()).policy_input(spec, states, app, env, request, BigInt(now)),
  policy_verdict: async (name, answer) => (await inspect()).policy_verdict(name, answer),
  diff: async (before, after, file) => (await inspect()).diff(before, after, file),
  replay_rollout: async (spec, app, env, traffic) => (await inspect()).replay_rollout(spec, app, env, traffic),
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
    const text = await call(...args);
    const result = typeof text === 'string' && fn !== 'example_spec' ? JSON.parse(text) : text;
    self.postMessage({ id, result, ms: performance.now() - start });
  } catch (err) {
    self.postMessage({ id, error: String((err && err.stack) || err) });
  }
};
