// The routing picture: the model's routing graph (switchyard_model::view::routing_graph: hosts, routers,
// services, slots, versions, with the weighted shares) drawn as SVG. The model decides what is drawn; this
// only lays it out in columns.

import { clip, svg } from './page.js';

const COLUMNS = ['host', 'router', 'service', 'slot', 'version'];
const TITLES = { host: 'hosts', router: 'routers', service: 'services', slot: 'slots', version: 'versions' };
const WIDTHS = { host: 230, router: 240, service: 240, slot: 110, version: 180 };
const GAP = 60;
const ROW = 46;
const BOX = 36;
const TOP = 28;

/** Draws `graph` (the `graph` of `view`) into `container`, replacing what was there. */
export function drawGraph(container, graph) {
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
