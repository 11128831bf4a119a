// What every module of the playground shares: the page's error list (imported first, so that it is in place
// before any other module runs) and the DOM helpers. Everything is built with textContent and
// createElementNS, never parsed as HTML: whatever the inputs hold is shown as text.

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

// ---- DOM helpers ------------------------------------------------------------------------------------------

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Sets a node's text only when it differs (no layout for an unchanged panel). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** `text` cut to what fits in `width` SVG units of the pictures' font. */
export function clip(text, width) {
  const max = Math.floor((width - 12) / 6.6);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
