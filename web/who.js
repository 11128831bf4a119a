// "Who answers?": the request simulator (switchyard-traefik's simulate::http, in the module loaded on demand)
// on the environment's configuration as generated now. Loaded when the panel first opens. The answer's text
// is the simulator's own, the very text `switchyard route` prints; this file adds the split as a chart.

import { $, clip, setText, svg } from './page.js';
import { call, Latest } from './calls.js';

/** The panel: `view()` is the view shown (its generated file and version map), `item(d)` a diagnostic's list
 * item. Runs once now; `request()` runs it again, `idle()` waits for the latest run. */
export function createWho({ view, item }) {
  const who = new Latest(async () => {
    const shown = view();
    if (!shown) return;
    const req = form();
    // The user's own files the spec declares (the example's), which Traefik reads beside the generated one.
    const files = JSON.stringify(shown.traefik_files || []);
    const { result } = await call('route', shown.file || 'rendered.yml', shown.config, JSON.stringify(shown.versions || {}), JSON.stringify(req), files);
    show(result, item);
  });
  $('who-form').addEventListener('submit', (e) => {
    e.preventDefault();
    who.request();
  });
  who.request();
  return who;
}

/** The form as the adapter's `route` takes it (crates/wasm, `RouteRequest`). */
function form() {
  const count = $('who-count').value.trim();
  return {
    host: $('who-host').value,
    path: $('who-path').value,
    method: $('who-method').value,
    headers: $('who-headers').value,
    cookies: $('who-cookies').value,
    query: $('who-query').value,
    entry_point: $('who-entry-point').value,
    tls: $('who-tls').checked,
    requests: count === '' ? null : Math.max(0, Math.floor(Number(count)) || 0),
    down: $('who-down').value,
  };
}

function show(result, item) {
  $('who-diagnostics').replaceChildren(...result.diagnostics.map(item));
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
  setText(answerNode, route.text);
  answerNode.dataset.router = a.candidates.length ? a.candidates[0].router : '';
  answerNode.dataset.version = route.version || '';
  answerNode.dataset.status = String(a.status);
  const total = route.shares.reduce((sum, share) => sum + share.count, 0);
  setText($('who-split-title'), route.split ? `${total} requests` : '');
  drawSplit(chart, route.shares, total);
}

const BAR = { label: 330, width: 300, row: 24, height: 16 };

/** The split as horizontal bars, one per target, labelled with the version behind it. */
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
