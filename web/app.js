// The switchyard playground's entry module. Plain ES modules, no framework, no build step:
// - page.js: the page's error list and the DOM helpers; calls.js: every call into the model (worker.js);
// - editor.js: the editors and diagnostics; graph.js: the routing picture;
// - loaded on demand: share.js (the share link), who.js ("Who answers?"), check.js ("Check a Traefik
//   config"), policies.js (the Policies panel).
//
// The model decides everything (crates/model through the wasm adapter in crates/wasm, run by worker.js):
// which routers and services exist, the weights, what a step does and what it is called, which versions a
// cleanup removes. This file only shows what the model answers, and turns clicks into requests.

import { $, el, setText } from './page.js';
import { Latest, call } from './calls.js';
import { Editor, diagnosticItem } from './editor.js';
import { drawGraph } from './graph.js';

// ---- The session: everything a share link carries ----------------------------------------------------

const session = {
  spec: '',
  states: '[]',
  app: '',
  env: '',
  now: Math.floor(Date.now() / 1000),
  last: null, // the last step: { title, changed, plan, undo, before, after, file, diagnostics }
};

const specEditor = new Editor($('spec-editor'), $('spec'), 'switchyard.yaml');
const stateEditor = new Editor($('state-editor'), $('state'), 'state.json');

/** A diagnostic of the spec or the state: clicking it shows its line in its editor. */
function inputItem(d) {
  return diagnosticItem(d, (loc) => {
    const state = loc.file === 'state.json';
    selectTab('inputs', state ? 'state-panel' : 'spec-panel');
    (state ? stateEditor : specEditor).goto(loc.line, loc.column);
  });
}

// ---- Rendering: one model call per change, the latest input wins --------------------------------------

/** How long the last render took: in the model (the worker's side) and showing it (this side), in ms. */
const timings = { model: 0, show: 0 };

const render = new Latest(async () => {
  $('busy').hidden = false;
  const { spec, states, app, env } = session;
  try {
    const { result, ms } = await call('view', spec, states, app, env);
    timings.model = ms;
    if (render.again) return; // newer inputs are waiting: show those instead
    const start = performance.now();
    show(result);
    timings.show = performance.now() - start;
    $('timing').textContent = `model ${timings.model.toFixed(1)} ms, page ${timings.show.toFixed(1)} ms`;
  } catch (err) {
    console.error(`rendering failed: ${err.message}`);
  } finally {
    if (!render.again) $('busy').hidden = true;
  }
});

const requestRender = () => render.request();

/** Resolves once the page shows the latest inputs, the Diff panel's too when it is open (the browser tests
 * and the latency benchmark use it). */
const idle = async () => {
  await render.idle();
  await panelIdle('diff-panel');
};

/** The last view shown (the environment's generated configuration and its version map). */
let lastView = null;

function show(answer) {
  const diagnostics = answer.diagnostics || [];
  specEditor.mark(diagnostics);
  stateEditor.mark(diagnostics);
  showDiagnostics(diagnostics);
  const view = answer.ok;
  $('stale').hidden = !!view;
  document.querySelector('.outputs').classList.toggle('stale', !view);
  if (!view) return;
  session.app = view.app;
  session.env = view.env;
  showEnvironments(view);
  showSubjects(view.status);
  $('clock').textContent = new Date(session.now * 1000).toISOString().replace('.000Z', 'Z');
  $('config-file').textContent = view.file;
  setText($('config'), view.config);
  setText($('status'), view.status_text || `${view.app}/${view.env} has not been created yet: press Create.`);
  const download = $('download');
  download.download = view.file || 'switchyard.yml';
  download.href = `data:application/yaml;charset=utf-8,${encodeURIComponent(view.config)}`;
  drawGraph($('graph'), view.graph);
  showLastStep();
  lastView = view;
  if (who) who.request();
}

function showDiagnostics(diagnostics) {
  const list = $('diagnostics');
  list.replaceChildren();
  $('problem-count').textContent = diagnostics.length ? `(${diagnostics.length})` : '';
  if (!diagnostics.length) {
    list.append(el('li', { class: 'none' }, 'No problems.'));
    return;
  }
  for (const d of diagnostics) list.append(inputItem(d));
}

function showEnvironments(view) {
  const select = $('env');
  const wanted = `${view.app}/${view.env}`;
  const options = view.environments.map((e) => `${e.app}/${e.env}${e.created ? '' : ' (not created)'}`);
  const same = select.options.length === options.length && options.every((o, i) => select.options[i].textContent === o);
  if (!same) {
    select.replaceChildren(...view.environments.map((e, i) => {
      const option = el('option', {}, options[i]);
      option.value = `${e.app}/${e.env}`;
      return option;
    }));
  }
  select.value = wanted;
}

/** A version to select once it is listed (the one just deployed). */
let preferredSubject = null;

/** The versions the version-taking steps offer, newest first (the model lists them in deployment order). */
function showSubjects(status) {
  const select = $('subject');
  const versions = status ? status.versions.map((v) => v.version) : [];
  const previous = preferredSubject !== null && versions.includes(preferredSubject) ? preferredSubject : select.value;
  preferredSubject = null;
  const newestFirst = versions.slice().reverse();
  const same = select.options.length === newestFirst.length && newestFirst.every((v, i) => select.options[i].value === v);
  if (!same) {
    select.replaceChildren(...newestFirst.map((v) => {
      const option = el('option', {}, v);
      option.value = v;
      return option;
    }));
  }
  if (versions.includes(previous)) select.value = previous;
}

function showLastStep() {
  const last = session.last;
  const result = $('step-result');
  result.replaceChildren();
  if (!last) {
    result.append(el('p', { class: 'none' }, 'No step yet: press one above.'));
    setText($('plan-title'), '');
    setText($('plan'), '');
    setText($('undo'), '');
    $('diff').replaceChildren();
    if (panels['diff-panel']) panels['diff-panel'].then((d) => d.request());
    return;
  }
  const summary = last.refused ? `${last.title}: refused` : `${last.title}: ${last.changed ? 'done' : 'nothing to change'}`;
  result.append(el('p', { class: last.refused ? 'refused' : 'done' }, summary));
  const list = el('ul', { class: 'diagnostics' });
  for (const d of last.diagnostics) list.append(inputItem(d));
  if (last.diagnostics.length) result.append(list);
  if (last.refused) return;
  setText($('plan-title'), last.title);
  setText($('plan'), last.plan);
  setText($('undo'), last.undo);
  if (panels['diff-panel']) panels['diff-panel'].then((d) => d.request());
}

/** The Diff panel: the last step's diff, computed by the module loaded on demand once the panel is open. */
function createDiff() {
  const run = new Latest(async () => {
    const last = session.last;
    if (!last || last.refused) return;
    const { result } = await call('diff', last.before, last.after, last.file);
    showDiff($('diff'), result.ok || '');
  });
  run.request();
  return { request: () => run.request(), idle: () => run.idle() };
}

function showDiff(node, diff) {
  node.replaceChildren();
  if (!diff) {
    node.append(el('span', { class: 'meta' }, 'The configuration did not change.\n'));
    return;
  }
  for (const line of diff.split('\n')) {
    if (line === '') continue;
    let kind = 'same';
    if (line.startsWith('+++') || line.startsWith('---')) kind = 'meta';
    else if (line.startsWith('@@')) kind = 'hunk';
    else if (line.startsWith('+')) kind = 'add';
    else if (line.startsWith('-')) kind = 'del';
    node.append(el('span', { class: kind }, `${line}\n`));
  }
}

// ---- Panels loaded on demand: "Who answers?", "Check a Traefik config", Policies ------------------------

/** Each panel's module, imported when the panel first opens: a promise of what it made. */
const panels = {};
/** "Who answers?" once loaded: it runs again whenever the view changes. */
let who = null;

function loadPanel(id) {
  if (!panels[id]) {
    const view = () => lastView;
    const made = {
      // A diagnostic about the generated configuration: clicking it shows the Configuration tab.
      'who-panel': () => import('./who.js').then(({ createWho }) => {
        who = createWho({ view, item: (d) => diagnosticItem(d, () => selectTab('outputs', 'config-panel')) });
        return who;
      }),
      'check-panel': () => import('./check.js').then(({ createCheck }) => createCheck({ view })),
      'diff-panel': () => Promise.resolve(createDiff()),
      'rollout-panel': () => import('./rollout.js').then(({ createRollout }) => createRollout({ session, item: inputItem })),
      'policy-panel': () => import('./policies.js').then(({ createPolicies }) => {
        const policies = createPolicies({ call, $, el, diagnosticItem: inputItem, session });
        policies.ready.then(() => policies.checkNow());
        return policies;
      }),
    }[id];
    if (!made) return null;
    panels[id] = made();
    panels[id].catch((err) => console.error(`could not load the panel ${id}: ${err.message}`));
  }
  return panels[id];
}

/** Waits for a panel's latest run, if it was opened. */
async function panelIdle(id) {
  if (panels[id]) await (await panels[id]).idle();
}

// ---- Steps: requests to the model ------------------------------------------------------------------------

const STEP = 60; // the clock moves a minute with every step

function request(action) {
  const version = $('version').value.trim();
  const subject = $('subject').value;
  const share = Number($('share-percent').value);
  switch (action) {
    case 'create': return { change: 'create' };
    case 'deploy': return { change: 'deploy', version };
    case 'healthy': return { change: 'observe_health', version: subject, status: 'healthy' };
    case 'unhealthy': return { change: 'observe_health', version: subject, status: 'unhealthy' };
    case 'promote': return { change: 'promote', version: subject, share };
    case 'shift': return { change: 'set_share', share };
    case 'complete': return { change: 'complete' };
    case 'rollback': return { change: 'rollback' };
    case 'retire': return { change: 'retire', version: subject };
    case 'cleanup': return { change: 'cleanup' };
    default: return null;
  }
}

let stepping = Promise.resolve();

/** Runs a step after the ones before it; the promise settles when the page shows its result. */
function step(action) {
  const req = request(action);
  if (!req) return stepping;
  stepping = stepping.then(async () => {
    await idle();
    const { spec, states, app, env, now } = session;
    const json = JSON.stringify(req);
    // The step's name is the model's, as the CLI names a change and the history records it.
    const { result: said } = await call('describe_request', json);
    const title = `${app}/${env}: ${said.ok || req.change}`;
    const refuse = (diagnostics) => {
      session.last = { ...(session.last || { plan: '', undo: '', diff: '', changed: false }), title, refused: true, diagnostics };
    };
    // With the Policies panel open, the policies see the step first, as `--policy` does in the CLI.
    if (panels['policy-panel']) {
      const verdict = await (await panels['policy-panel']).gate(req, title);
      if (verdict.refused) {
        refuse(verdict.diagnostics);
        requestRender();
        await idle();
        return;
      }
    }
    const { result } = await call('apply', spec, states, app, env, json, now);
    if (!result.ok) {
      refuse(result.diagnostics);
    } else {
      const ok = result.ok;
      session.last = {
        title, refused: false, changed: ok.changed, plan: ok.plan, undo: ok.undo,
        before: ok.before, after: ok.after, file: ok.file, diagnostics: result.diagnostics,
      };
      if (ok.changed) {
        session.states = JSON.stringify(ok.states, null, 2);
        stateEditor.value = session.states;
        session.now = now + STEP;
        if (req.change === 'deploy') {
          $('version').value = nextVersion(req.version);
          preferredSubject = req.version;
        }
      }
    }
    requestRender();
    await idle();
  }).catch((err) => console.error(`the step failed: ${err.message}`));
  return stepping;
}

/** A suggestion for the next version to deploy: the last number one up (v1.3.0 -> v1.3.1). */
function nextVersion(version) {
  const m = /^(.*?)(\d+)(\D*)$/.exec(version);
  return m ? `${m[1]}${Number(m[2]) + 1}${m[3]}` : version;
}

// ---- Start ---------------------------------------------------------------------------------------------

async function exampleSession() {
  session.spec = (await call('example_spec')).result;
  session.states = '[]';
  session.app = 'whoami';
  session.env = 'dev';
  session.now = Math.floor(Date.now() / 1000);
  session.last = null;
  // The example starts where the README's workflow does: v1.2.0 live in dev.
  const steps = [
    { change: 'create' },
    { change: 'deploy', version: 'v1.2.0' },
    { change: 'observe_health', version: 'v1.2.0', status: 'healthy' },
    { change: 'promote', version: 'v1.2.0', share: 100 },
  ];
  for (const req of steps) {
    const { result } = await call('apply', session.spec, session.states, 'whoami', 'dev', JSON.stringify(req), session.now);
    if (!result.ok) throw new Error(`the example does not start: ${JSON.stringify(result.diagnostics)}`);
    session.states = JSON.stringify(result.ok.states, null, 2);
    session.now += STEP;
  }
  $('version').value = 'v1.3.0';
}

function load() {
  specEditor.value = session.spec;
  stateEditor.value = session.states;
  requestRender();
}

function selectTab(group, id) {
  for (const tab of document.querySelectorAll(`[data-tabs="${group}"] [data-tab]`)) {
    tab.setAttribute('aria-selected', String(tab.dataset.tab === id));
  }
  for (const panel of document.querySelectorAll(`.tab-panel[data-group="${group}"]`)) panel.hidden = panel.id !== id;
  loadPanel(id);
}

function wire() {
  // The model's call goes out first: the worker renders while this thread updates the gutter and lays out.
  $('spec').addEventListener('input', () => {
    session.spec = specEditor.value;
    requestRender();
    specEditor.refreshLines(session.spec);
  });
  $('state').addEventListener('input', () => {
    session.states = stateEditor.value;
    requestRender();
    stateEditor.refreshLines(session.states);
  });
  $('env').addEventListener('change', () => {
    const [app, env] = $('env').value.split('/');
    session.app = app;
    session.env = env;
    requestRender();
  });
  for (const button of document.querySelectorAll('[data-action]')) {
    button.addEventListener('click', () => {
      if (button.dataset.action === 'advance') {
        session.now += Number(button.dataset.seconds);
        requestRender();
      } else {
        step(button.dataset.action);
      }
    });
  }
  for (const tab of document.querySelectorAll('[data-tab]')) {
    tab.addEventListener('click', () => selectTab(tab.closest('[data-tabs]').dataset.tabs, tab.dataset.tab));
  }
  $('share').addEventListener('click', () => {
    import('./share.js').then(({ share }) => share(session)).catch((err) => console.error(`could not make the link: ${err.message}`));
  });
  $('reset').addEventListener('click', () => {
    history.replaceState(null, '', location.pathname);
    exampleSession().then(load).catch((err) => console.error(err.message));
  });
}

async function start() {
  wire();
  const fragment = location.hash.slice(1);
  let restored = false;
  if (fragment) {
    try {
      const { decodeSession } = await import('./share.js');
      const data = await decodeSession(fragment);
      Object.assign(session, { spec: data.spec, states: data.states, app: data.app || '', env: data.env || '', now: Number(data.now) || session.now, last: null });
      restored = true;
    } catch (err) {
      $('step-result').replaceChildren(el('p', { class: 'refused' }, `The link could not be read (${err.message}); starting from the example.`));
    }
  }
  if (!restored) await exampleSession();
  load();
  await idle();
  document.body.dataset.ready = 'true';
}

window.playground = {
  idle, step, session, timings,
  /** The panels' latest runs, once opened (the browser tests wait on them). */
  who: { idle: () => panelIdle('who-panel') },
  check: { idle: () => panelIdle('check-panel') },
  rollout: { idle: () => panelIdle('rollout-panel') },
  /** The Policies panel once it has loaded its modules and finished its latest run (tests wait on it). */
  policies: async () => {
    const made = await loadPanel('policy-panel');
    await made.ready;
    await made.idle();
    return made;
  },
};
start().catch((err) => console.error(`the playground could not start: ${err.message}`));
