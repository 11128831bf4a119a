// The playground's policies: WebAssembly modules of ABI v1 (docs/policy-abi.md) run by policy-host.js, the
// same bytes `switchyard check --policy` runs in wasmtime. Loaded with the Policies panel, not with the page.
//
// The model makes every decision: the adapter writes the policies' input exactly as the CLI does
// (`policy_input`) and turns each answer into diagnostics exactly as the CLI does (`policy_verdict`); this
// file only moves bytes between the two and draws the list.

import { runPolicy } from './policy-host.js';

/** The modules served with the page: the model's own checks, and the example written in the text format. */
const BUILT_IN = ['switchyard-model.wasm', 'canary-25.wasm'];
/** Policies run on every step: a hanging module is stopped after this long (the browser has no fuel). */
const TIMEOUT_MS = 5000;

export function createPolicies({ call, $, el, diagnosticItem, session }) {
  const modules = []; // { name, bytes, sha256, builtIn, enabled, error }
  let lastRun = Promise.resolve();

  async function sha256(bytes) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function list() {
    $('policy-modules').replaceChildren(...modules.map((m, i) => {
      const enabled = el('input', { type: 'checkbox', 'data-policy': m.name });
      enabled.checked = m.enabled;
      enabled.disabled = !!m.error;
      enabled.addEventListener('change', () => { m.enabled = enabled.checked; });
      const row = el('li', { 'data-policy': m.name },
        enabled,
        el('span', { class: 'name' }, m.name),
        el('span', { class: 'size' }, m.bytes ? `${(m.bytes.byteLength / 1024).toFixed(1)} KiB` : ''),
        el('span', { class: 'sha', title: m.sha256 || '' }, m.sha256 ? `sha256:${m.sha256.slice(0, 16)}…` : ''),
        m.error ? el('span', { class: 'failed' }, m.error) : '');
      if (!m.builtIn) {
        const remove = el('button', { type: 'button', title: `Remove ${m.name}` }, 'remove');
        remove.addEventListener('click', () => {
          modules.splice(i, 1);
          list();
        });
        row.append(remove);
      }
      return row;
    }));
  }

  async function add(name, bytes, builtIn) {
    const existing = modules.findIndex((m) => m.name === name && !m.builtIn);
    const entry = { name, bytes, sha256: await sha256(bytes), builtIn, enabled: true, error: null };
    if (existing >= 0) modules[existing] = entry;
    else modules.push(entry);
    list();
  }

  // Fetched together, listed (and run) in BUILT_IN's order whatever order they arrive in.
  const ready = Promise.all(BUILT_IN.map(async (name) => {
    try {
      const response = await fetch(`policies/${name}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return { name, bytes: await response.arrayBuffer() };
    } catch (err) {
      return { name, error: `could not load it: ${err.message}` };
    }
  })).then(async (loaded) => {
    for (const { name, bytes, error } of loaded) {
      if (error) modules.push({ name, bytes: null, sha256: null, builtIn: true, enabled: false, error });
      else await add(name, bytes, true);
    }
    list();
  });

  /** Every enabled policy on one input: the diagnostics, as the CLI prints them. */
  async function evaluate(input) {
    await ready;
    const diagnostics = [];
    for (const m of modules.filter((x) => x.enabled && x.bytes)) {
      const answer = await runPolicy(m.bytes, input, { name: m.name, timeoutMs: TIMEOUT_MS });
      // The model reads the module's own text, as the CLI does; a failure comes as the host's error.
      const { result } = await call('policy_verdict', m.name, answer.error ? JSON.stringify({ error: answer.error }) : answer.text);
      diagnostics.push(...(result.ok || []), ...result.diagnostics);
    }
    return diagnostics;
  }

  let shown = [];

  function show(subject, diagnostics) {
    shown = diagnostics;
    $('policy-subject').textContent = subject;
    $('policy-count').textContent = diagnostics.length ? `(${diagnostics.length})` : '';
    const items = diagnostics.map((d) => diagnosticItem(d));
    $('policy-diagnostics').replaceChildren(...(items.length ? items : [el('li', { class: 'none' }, 'No findings.')]));
  }

  /** The policies on the spec and the recorded states, as `switchyard check` (no change). */
  function checkNow() {
    lastRun = lastRun.then(async () => {
      const { result } = await call('policy_input', session.spec, session.states, session.app, session.env, '', session.now);
      if (!result.ok) return show('The spec or the state has problems: see Problems.', result.diagnostics);
      show('switchyard check (the spec and every environment as recorded)', await evaluate(result.ok.input));
    }).catch((err) => console.error(`the policies failed: ${err.message}`));
    return lastRun;
  }

  /** Runs the policies on a step before it is applied, as `--policy` does: `refused` when one reports an error. */
  async function gate(request, title) {
    if (!$('policy-gate').checked || !modules.some((m) => m.enabled)) return { refused: false, diagnostics: [] };
    const { result } = await call('policy_input', session.spec, session.states, session.app, session.env, JSON.stringify(request), session.now);
    // A change the model refuses, or one that changes nothing, is not for the policies (the CLI does the same).
    if (!result.ok || !result.ok.changed) return { refused: false, diagnostics: [] };
    const diagnostics = await evaluate(result.ok.input);
    const refused = diagnostics.some((d) => d.severity === 'error');
    show(`${title}${refused ? ': refused by the policies' : ''}`, diagnostics);
    return { refused, diagnostics };
  }

  async function addFiles(files) {
    for (const file of files) await add(file.name, await file.arrayBuffer(), false);
  }

  $('policy-run').addEventListener('click', () => checkNow());
  $('policy-file').addEventListener('change', () => {
    addFiles($('policy-file').files).then(checkNow).catch((err) => console.error(err.message));
  });
  const drop = $('policy-panel');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    $('policy-drop').classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => $('policy-drop').classList.remove('dragging'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    $('policy-drop').classList.remove('dragging');
    addFiles(e.dataTransfer.files).then(checkNow).catch((err) => console.error(err.message));
  });

  return { ready, checkNow, gate, idle: () => lastRun, add, findings: () => shown };
}
