// The switchyard playground. Plain ES module, no framework, no build step.
//
// The model decides everything (crates/model through the wasm adapter in crates/wasm, run by worker.js):
// which routers and services exist, the weights, what a step does, which versions a cleanup removes. This
// file only shows what the model answers, and turns clicks into requests. It builds the DOM with
// textContent and createElementNS only: whatever the inputs hold is shown as text, never parsed as HTML.

// ---- Errors: collected for the page's error badge (and read by the browser tests) ----------------------

const errors = [];
window.playgroundErrors = errors;
const consoleError = console.error.bind(console);
console.error = (...args) => {
  errors.push(args.map(String).join(' '));
  consoleError(...args);
  showErrors();
};
window.addEventListener('error', (e) => { errors.push(`${e.message} (${e.filename}:${e.lineno})`); showErrors(); });
window.addEventListener('unhandledrejection', (e) => { errors.push(`unhandled rejection: ${e.reason}`); showErrors(); });
document.addEventListener('securitypolicyviolation', (e) => {
  errors.push(`blocked by the content security policy: ${e.violatedDirective} ${e.blockedURI}`);
  showErrors();
});

function showErrors() {
  const badge = document.getElementById('errors');
  if (!badge) return;
  badge.hidden = errors.length === 0;
  badge.textContent = `${errors.length} error${errors.length === 1 ? '' : 's'}`;
  badge.title = errors.join('\n');
}

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- The worker: every call into the model ------------------------------------------------------------

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const waiting = new Map();
let nextId = 1;
worker.onmessage = (event) => {
  const { id, result, error, ms } = event.data;
  const pending = waiting.get(id);
  waiting.delete(id);
  if (!pending) return;
  if (error !== undefined) pending.reject(new Error(error));
  else pending.resolve({ result, ms });
};
worker.onerror = (event) => {
  console.error(`the worker failed: ${event.message || 'could not load it'}`);
  for (const p of waiting.values()) p.reject(new Error('the worker failed'));
  waiting.clear();
};

// The spec and the states go to the worker only when they changed since the last call (`null`: the same
// as before): a keystroke in one editor does not copy the other's text again.
const sent = { spec: null, states: null };

function call(fn, ...args) {
  if (fn === 'view' || fn === 'apply') {
    if (args[0] === sent.spec) args[0] = null;
    else sent.spec = args[0];
    if (args[1] === sent.states) args[1] = null;
    else sent.states = args[1];
  }
  return new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, fn, args });
  });
}

// ---- The session: everything a share link carries ----------------------------------------------------

const session = {
  spec: '',
  states: '[]',
  app: '',
  env: '',
  now: Math.floor(Date.now() / 1000),
  last: null, // the last step: { title, changed, plan, undo, diff, diagnostics }
};

// ---- Editors: a textarea with a line-numbered gutter and marks at the lines with problems ------------

class Editor {
  constructor(root, textarea, file) {
    this.textarea = textarea;
    this.file = file;
    this.gutter = root.querySelector('.gutter-lines');
    this.marks = root.querySelector('.marks-lines');
    this.lines = 0;
    this.marked = [];
    textarea.addEventListener('scroll', () => this.scroll());
    textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey) {
        e.preventDefault();
        textarea.setRangeText('  ', textarea.selectionStart, textarea.selectionEnd, 'end');
        textarea.dispatchEvent(new Event('input'));
      }
    });
  }

  get value() { return this.textarea.value; }

  set value(text) {
    this.textarea.value = text;
    this.refreshLines();
  }

  /** Keeps one gutter row per line, adding or removing only the difference. Reading the scroll position
   * forces Chromium to lay the whole text out at once, so it is read only when the number of lines changed
   * (otherwise the textarea's own scroll event brings the gutter along). */
  refreshLines(text = this.textarea.value) {
    let count = 1;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
    if (count === this.lines) return;
    while (this.lines < count) {
      this.lines++;
      this.gutter.append(el('div', { class: 'line' }, this.lines));
    }
    while (this.lines > count) {
      this.gutter.lastChild.remove();
      this.lines--;
    }
    this.scroll();
  }

  scroll() {
    const shift = `translate(${-this.textarea.scrollLeft}px, ${-this.textarea.scrollTop}px)`;
    this.gutter.style.transform = `translateY(${-this.textarea.scrollTop}px)`;
    this.marks.style.transform = shift;
  }

  /** Marks the lines of the diagnostics located in this editor's file. */
  mark(diagnostics) {
    for (const row of this.marked) row.classList.remove('error', 'warning', 'info');
    this.marked = [];
    this.marks.replaceChildren();
    for (const d of diagnostics) {
      const line = d.location && d.location.file === this.file ? d.location.line : 0;
      if (!line || line > this.lines) continue;
      const row = this.gutter.children[line - 1];
      row.classList.add(d.severity);
      row.title = `${d.code}: ${d.message}`;
      this.marked.push(row);
      const band = el('div', { class: `band ${d.severity}` });
      band.style.top = `${(line - 1) * lineHeight(this.textarea)}px`;
      this.marks.append(band);
    }
  }

  /** Puts the cursor at a line and column, and scrolls it into view. */
  goto(line, column) {
    const text = this.textarea.value;
    let offset = 0;
    for (let l = 1; l < line; l++) {
      const next = text.indexOf('\n', offset);
      if (next === -1) break;
      offset = next + 1;
    }
    const end = text.indexOf('\n', offset);
    const pos = Math.min(offset + Math.max(column - 1, 0), end === -1 ? text.length : end);
    this.textarea.focus();
    this.textarea.setSelectionRange(pos, pos);
    const lh = lineHeight(this.textarea);
    this.textarea.scrollTop = Math.max(0, (line - 1) * lh - this.textarea.clientHeight / 3);
    this.scroll();
  }
}

function lineHeight(textarea) {
  return parseFloat(getComputedStyle(textarea).lineHeight) || 18;
}

const specEditor = new Editor($('spec-editor'), $('spec'), 'switchyard.yaml');
const stateEditor = new Editor($('state-editor'), $('state'), 'state.json');

// ---- Rendering: one model call per change, the latest input wins --------------------------------------

/** How long the last render took: in the model (the worker's side) and showing it (this side), in ms. */
const timings = { model: 0, show: 0 };
let inFlight = false;
let again = false;
let idleWaiters = [];

function requestRender() {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  $('busy').hidden = false;
  const { spec, states, app, env } = session;
  call('view', spec, states, app, env)
    .then(({ result, ms }) => {
      timings.model = ms;
      if (again) return;
      const start = performance.now();
      show(result);
      timings.show = performance.now() - start;
      $('timing').textContent = `model ${timings.model.toFixed(1)} ms, page ${timings.show.toFixed(1)} ms`;
    })
    .catch((err) => console.error(`rendering failed: ${err.message}`))
    .finally(() => {
      inFlight = false;
      if (again) {
        again = false;
        requestRender();
        return;
      }
      $('busy').hidden = true;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    });
}

/** Resolves once the page shows the latest inputs (the browser tests and the latency benchmark use it). */
function idle() {
  if (!inFlight && !again) return Promise.resolve();
  return new Promise((resolve) => idleWaiters.push(resolve));
}

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
  if (panelsOpened.has('who-panel')) who.request();
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function showDiagnostics(diagnostics) {
  const list = $('diagnostics');
  list.replaceChildren();
  $('problem-count').textContent = diagnostics.length ? `(${diagnostics.length})` : '';
  if (!diagnostics.length) {
    list.append(el('li', { class: 'none' }, 'No problems.'));
    return;
  }
  for (const d of diagnostics) list.append(diagnosticItem(d));
}

/** A diagnostic as a list item; `goto(line, column)` shows its place (default: the spec or state editor). */
function diagnosticItem(d, goto) {
  const loc = d.location;
  const item = el('li', { class: `diagnostic ${d.severity}`, 'data-code': d.code });
  if (loc) {
    item.setAttribute('data-file', loc.file);
    item.setAttribute('data-line', String(loc.line));
    item.setAttribute('data-column', String(loc.column));
    item.tabIndex = 0;
    item.title = 'Go to the line';
    const go = goto ? () => goto(loc.line, loc.column) : () => {
      const editor = loc.file === 'state.json' ? stateEditor : specEditor;
      selectTab('inputs', editor === stateEditor ? 'state-panel' : 'spec-panel');
      editor.goto(loc.line, loc.column);
    };
    item.addEventListener('click', go);
    item.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
  }
  const head = el('div', { class: 'head' },
    el('span', { class: 'severity' }, d.severity),
    el('span', { class: 'code' }, d.code),
    loc ? el('span', { class: 'where' }, `${loc.file}:${loc.line}:${loc.column}`) : '');
  item.append(head, el('div', { class: 'message' }, d.message));
  if (d.path) item.append(el('div', { class: 'path' }, `at ${d.path}`));
  for (const hint of d.hints || []) item.append(el('div', { class: 'hint' }, `hint: ${hint}`));
  return item;
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
    return;
  }
  const summary = last.refused ? `${last.title}: refused` : `${last.title}: ${last.changed ? 'done' : 'nothing to change'}`;
  result.append(el('p', { class: last.refused ? 'refused' : 'done' }, summary));
  const list = el('ul', { class: 'diagnostics' });
  for (const d of last.diagnostics) list.append(diagnosticItem(d));
  if (last.diagnostics.length) result.append(list);
  if (last.refused) return;
  setText($('plan-title'), last.title);
  setText($('plan'), last.plan);
  setText($('undo'), last.undo);
  showDiff($('diff'), last.diff);
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

// ---- The routing picture --------------------------------------------------------------------------------

const COLUMNS = ['host', 'router', 'service', 'slot', 'version'];
const TITLES = { host: 'hosts', router: 'routers', service: 'services', slot: 'slots', version: 'versions' };
const WIDTHS = { host: 230, router: 240, service: 240, slot: 110, version: 180 };
const GAP = 60;
const ROW = 46;
const BOX = 36;
const TOP = 28;

function clip(text, width) {
  const max = Math.floor((width - 12) / 6.6);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function drawGraph(container, graph) {
  const xs = {};
  let x = 0;
  for (const kind of COLUMNS) {
    xs[kind] = x;
    x += WIDTHS[kind] + GAP;
  }
  const width = x - GAP;
  const rows = {};
  const place = {};
  for (const node of graph.nodes) {
    const row = rows[node.kind] || 0;
    rows[node.kind] = row + 1;
    place[node.id] = { x: xs[node.kind], y: TOP + row * ROW, w: WIDTHS[node.kind], node };
  }
  const height = TOP + Math.max(1, ...Object.values(rows)) * ROW;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': 'Routing: hosts, routers, services, slots and versions',
  });
  for (const kind of COLUMNS) root.append(svg('text', { x: xs[kind], y: 14, class: 'column' }, TITLES[kind]));

  const edges = svg('g', { class: 'edges' });
  const labels = svg('g', { class: 'labels' });
  const weightedSeen = {};
  for (const edge of graph.edges) {
    const a = place[edge.from];
    const b = place[edge.to];
    if (!a || !b) continue;
    const x1 = a.x + a.w;
    const y1 = a.y + BOX / 2;
    const x2 = b.x;
    const y2 = b.y + BOX / 2;
    const mid = (x1 + x2) / 2;
    const live = a.node.live && b.node.live;
    const share = edge.share;
    const path = svg('path', {
      d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      class: `edge${live ? ' live' : ''}${share !== undefined ? ' weighted' : ''}`,
      'data-from': edge.from, 'data-to': edge.to,
    });
    if (share !== undefined) {
      path.setAttribute('stroke-width', String(1.5 + share / 12));
      path.setAttribute('data-share', String(share));
    }
    if (edge.label) path.append(svg('title', {}, edge.label));
    edges.append(path);
    if (share !== undefined) {
      // Beside the weighted service, one line per child, in the order of its children.
      const nth = (weightedSeen[edge.from] = (weightedSeen[edge.from] || 0) + 1) - 1;
      const lx = x1 + 6;
      const ly = a.y + 12 + nth * 13;
      labels.append(svg('text', { x: lx, y: ly, class: 'share', 'data-to': edge.to }, `${share}%`));
    }
  }
  root.append(edges);
  const nodes = svg('g', { class: 'nodes' });
  for (const { x: nx, y, w, node } of Object.values(place)) {
    const g = svg('g', { class: `node ${node.kind}${node.live ? ' live' : ''}${node.role ? ` ${node.role}` : ''}`, 'data-id': node.id });
    g.append(svg('title', {}, node.detail ? `${node.label}\n${node.detail}` : node.label));
    g.append(svg('rect', { x: nx, y, width: w, height: BOX, rx: 5 }));
    g.append(svg('text', { x: nx + 6, y: y + 15, class: 'label' }, clip(node.label, w)));
    if (node.detail) g.append(svg('text', { x: nx + 6, y: y + 29, class: 'detail' }, clip(node.detail, w)));
    nodes.append(g);
  }
  root.append(nodes, labels);
  if (!graph.nodes.length) {
    root.append(svg('text', { x: 0, y: TOP + 20, class: 'empty' }, 'Nothing routed yet.'));
  }
  container.replaceChildren(root);
}

// ---- Panels on the module loaded on demand: "Who answers?" and "Check a Traefik config" ----------------

/** The last view shown (the environment's generated configuration and its version map). */
let lastView = null;
/** The output tabs opened so far: the inspect module is loaded when one that needs it first opens. */
const panelsOpened = new Set();

/** Runs `work` again whenever asked, one run at a time, the latest request winning; `idle()` waits for it. */
class Latest {
  constructor(work) {
    this.work = work;
    this.running = false;
    this.again = false;
    this.waiters = [];
  }

  request() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.work()
      .catch((err) => console.error(err.message))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.request();
          return;
        }
        const waiters = this.waiters;
        this.waiters = [];
        for (const resolve of waiters) resolve();
      });
  }

  idle() {
    if (!this.running && !this.again) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

function whoRequest() {
  const count = $('who-count').value.trim();
  return {
    host: $('who-host').value,
    path: $('who-path').value || '/',
    method: $('who-method').value || 'GET',
    headers: $('who-headers').value,
    cookies: $('who-cookies').value,
    query: $('who-query').value,
    entry_point: $('who-entry-point').value,
    tls: $('who-tls').checked,
    requests: count === '' ? null : Math.max(0, Math.floor(Number(count)) || 0),
    down: $('who-down').value,
  };
}

const who = new Latest(async () => {
  if (!lastView) return;
  const req = whoRequest();
  const { result } = await call('route', lastView.file || 'rendered.yml', lastView.config, JSON.stringify(lastView.versions || {}), JSON.stringify(req));
  showWho(result, req);
});

function showWho(result, req) {
  const list = $('who-diagnostics');
  list.replaceChildren(...result.diagnostics.map((d) => diagnosticItem(d, () => selectTab('outputs', 'config-panel'))));
  const answerNode = $('who-answer');
  const chart = $('who-chart');
  const route = result.ok;
  if (!route) {
    setText(answerNode, '');
    setText($('who-split-title'), '');
    chart.replaceChildren();
    return;
  }
  const a = route.answer;
  const lines = [`${req.method} ${req.tls ? 'https' : 'http'}://${req.host}${req.path}${req.entry_point ? ` on entry point ${req.entry_point}` : ''}`];
  for (const name of a.broken) lines.push(`skipped router ${name}: its rule does not parse (Traefik disables it)`);
  const winner = a.candidates[0];
  if (!winner) {
    lines.push(`no router matches: ${a.status}`);
  } else {
    lines.push(`router    ${winner.router} (priority ${winner.priority}, ${winner.explicit ? 'explicit' : "the rule's length"})`);
    for (const other of a.candidates.slice(1)) lines.push(`also matches: ${other.router} (priority ${other.priority})`);
    if (a.tied.length) lines.push(`TIE with ${a.tied.join(', ')}: equal priorities are decided by provider order`);
    lines.push(`service   ${a.chain.join(' -> ')}`);
    lines.push(a.server ? `server    ${a.server} (${a.status})` : `answer    ${a.status}`);
    lines.push(`version   ${route.version || '(none known)'}`);
  }
  for (const note of a.notes) lines.push(`note: ${note}`);
  setText(answerNode, `${lines.join('\n')}\n`);
  answerNode.dataset.router = winner ? winner.router : '';
  answerNode.dataset.version = route.version || '';
  answerNode.dataset.status = String(a.status);
  const total = route.shares.reduce((sum, share) => sum + share.count, 0);
  setText($('who-split-title'), route.split ? `${total} requests` : '');
  drawSplit(chart, route.shares, total);
}

const BAR = { label: 330, width: 300, row: 24, height: 16 };

/** The split as horizontal bars, one per target, built with DOM APIs only. */
function drawSplit(container, shares, total) {
  if (!shares.length) {
    container.replaceChildren();
    return;
  }
  const width = BAR.label + BAR.width + 110;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${shares.length * BAR.row + 4}`, role: 'img', 'aria-label': 'How the requests split',
  });
  shares.forEach((share, i) => {
    const y = i * BAR.row + 2;
    const fraction = total ? share.count / total : 0;
    const slot = share.version && / (blue|green) slot$/.exec(share.version);
    const kind = share.status === 200 ? `status-200${slot ? ` slot-${slot[1]}` : ''}` : 'failed';
    const g = svg('g', {
      class: 'share', 'data-target': share.target, 'data-count': share.count, 'data-version': share.version || '',
    });
    g.append(svg('title', {}, `${share.target}${share.version ? `\n${share.version}` : ''}`));
    g.append(svg('text', { x: 0, y: y + 12, class: 'label' }, clip(share.version || share.target, BAR.label)));
    g.append(svg('rect', { x: BAR.label, y, width: Math.max(1, fraction * BAR.width), height: BAR.height, class: `bar ${kind}` }));
    const percent = (fraction * 100).toFixed(1);
    g.append(svg('text', { x: BAR.label + BAR.width + 6, y: y + 12, class: 'count' }, `${share.count} (${percent}%)`));
    root.append(g);
  });
  container.replaceChildren(root);
}

const checkEditor = new Editor($('check-editor'), $('check-input'), 'dynamic.yml');

const check = new Latest(async () => {
  const file = $('check-file').value.trim();
  checkEditor.file = file;
  const { result } = await call('check_traefik', file, checkEditor.value);
  showCheck(result);
});

function showCheck(result) {
  const diagnostics = result.diagnostics;
  checkEditor.mark(diagnostics);
  const list = $('check-diagnostics');
  $('check-count').textContent = diagnostics.length ? `(${diagnostics.length})` : '';
  const goto = (line, column) => checkEditor.goto(line, column);
  list.replaceChildren(...diagnostics.map((d) => diagnosticItem(d, goto)));
  if (result.ok && !diagnostics.length) list.append(el('li', { class: 'none' }, 'No findings.'));
  // As `switchyard validate` prints them (without the source excerpt: the editor marks the lines).
  const text = diagnostics.map((d) => {
    const where = d.location ? `\n  --> ${d.location.file}:${d.location.line}:${d.location.column}` : '';
    const path = d.path ? `\n  at ${d.path}` : '';
    const hints = (d.hints || []).map((h) => `\n  hint: ${h}`).join('');
    return `${d.severity}[${d.code}]: ${d.message}${where}${path}${hints}\n`;
  });
  setText($('check-text'), text.join(''));
}

/** Keeps the file name's extension on the chosen format. */
function setCheckFormat(ext) {
  const name = $('check-file').value.trim() || 'dynamic';
  const dot = name.lastIndexOf('.');
  $('check-file').value = `${dot > 0 ? name.slice(0, dot) : name}.${ext}`;
}

/** The Policies panel's code (policies.js, with policy-host.js), imported when the panel first opens. */
let policies = null;

function loadPolicies() {
  if (!policies) {
    policies = import('./policies.js').then(({ createPolicies }) => {
      const made = createPolicies({ call, $, el, diagnosticItem, session });
      made.ready.then(() => made.checkNow());
      return made;
    });
  }
  return policies;
}

function openPanel(id) {
  if (panelsOpened.has(id)) return;
  if (id === 'policy-panel') {
    panelsOpened.add(id);
    loadPolicies().catch((err) => console.error(`could not load the policies: ${err.message}`));
    return;
  }
  if (id !== 'who-panel' && id !== 'check-panel') return;
  panelsOpened.add(id);
  if (id === 'who-panel') who.request();
  else call('load_inspect').catch((err) => console.error(`could not load the validator: ${err.message}`));
}

function wirePanels() {
  $('who-form').addEventListener('submit', (e) => {
    e.preventDefault();
    who.request();
  });
  $('check-run').addEventListener('click', () => check.request());
  $('check-input').addEventListener('input', () => {
    checkEditor.refreshLines();
    check.request();
  });
  $('check-file').addEventListener('change', () => {
    const ext = $('check-file').value.trim().toLowerCase().endsWith('.toml') ? 'toml' : 'yml';
    $('check-format').value = ext;
    check.request();
  });
  $('check-format').addEventListener('change', () => {
    setCheckFormat($('check-format').value);
    check.request();
  });
  $('check-load').addEventListener('click', () => {
    if (!lastView) return;
    $('check-file').value = lastView.file || 'dynamic.yml';
    $('check-format').value = 'yml';
    checkEditor.value = lastView.config;
    check.request();
  });
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

function describe(req) {
  const words = {
    create: 'create', deploy: `deploy ${req.version}`, observe_health: `observe ${req.version} ${req.status}`,
    promote: `promote ${req.version} at ${req.share}%`, set_share: `change the share to ${req.share}%`,
    complete: 'complete', rollback: 'roll back', retire: `retire ${req.version}`, cleanup: 'clean up',
  };
  return `${session.app}/${session.env}: ${words[req.change]}`;
}

let stepping = Promise.resolve();

/** Runs a step after the ones before it; the promise settles when the page shows its result. */
function step(action) {
  const req = request(action);
  if (!req) return stepping;
  stepping = stepping.then(async () => {
    await idle();
    const { spec, states, app, env, now } = session;
    const title = describe(req);
    // With the Policies panel open, the policies see the step first, as `--policy` does in the CLI.
    if (policies) {
      const verdict = await (await policies).gate(req, title);
      if (verdict.refused) {
        session.last = { ...(session.last || { plan: '', undo: '', diff: '', changed: false }), title, refused: true, diagnostics: verdict.diagnostics };
        requestRender();
        await idle();
        return;
      }
    }
    const { result } = await call('apply', spec, states, app, env, JSON.stringify(req), now);
    if (!result.ok) {
      session.last = { ...(session.last || { plan: '', undo: '', diff: '', changed: false }), title, refused: true, diagnostics: result.diagnostics };
    } else {
      const ok = result.ok;
      session.last = { title, refused: false, changed: ok.changed, plan: ok.plan, undo: ok.undo, diff: ok.diff, diagnostics: result.diagnostics };
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

// ---- The share link: the whole session in the URL fragment --------------------------------------------

function toBase64Url(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  const out = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

async function encodeSession() {
  const { spec, states, app, env, now } = session;
  const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, spec, states, app, env, now }));
  if (typeof CompressionStream === 'function') return `z${toBase64Url(await pipe(bytes, new CompressionStream('deflate-raw')))}`;
  return `j${toBase64Url(bytes)}`;
}

async function decodeSession(fragment) {
  const kind = fragment[0];
  let bytes = fromBase64Url(fragment.slice(1));
  if (kind === 'z') bytes = await pipe(bytes, new DecompressionStream('deflate-raw'));
  else if (kind !== 'j') throw new Error('not a playground link');
  const data = JSON.parse(new TextDecoder().decode(bytes));
  if (data.v !== 1 || typeof data.spec !== 'string' || typeof data.states !== 'string') throw new Error('not a playground link');
  return data;
}

async function share() {
  const fragment = await encodeSession();
  history.replaceState(null, '', `#${fragment}`);
  const link = $('link');
  link.value = location.href;
  link.select();
  try { await navigator.clipboard.writeText(location.href); } catch { /* the link is selected to copy by hand */ }
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
  openPanel(id);
}

function wire() {
  wirePanels();
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
  $('share').addEventListener('click', () => share().catch((err) => console.error(`could not make the link: ${err.message}`)));
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
  idle, step, session, timings, who, check,
  /** The Policies panel once it has loaded its modules and finished its latest run (tests wait on it). */
  policies: async () => {
    const made = await loadPolicies();
    await made.ready;
    await made.idle();
    return made;
  },
};
start().catch((err) => console.error(`the playground could not start: ${err.message}`));
