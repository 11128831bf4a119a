// "Check a Traefik config": the validator (switchyard-traefik's validate, in the module loaded on demand) on
// any pasted YAML or TOML, its findings listed and marked at their lines. Loaded when the panel first opens.

import { $, el, setText } from './page.js';
import { call, Latest } from './calls.js';
import { Editor, diagnosticItem } from './editor.js';

/** The panel: `view()` is the view shown (for "Load the generated configuration"). `request()` checks the
 * text again, `idle()` waits for the latest check. */
export function createCheck({ view }) {
  const editor = new Editor($('check-editor'), $('check-input'), 'dynamic.yml');
  const check = new Latest(async () => {
    const file = $('check-file').value.trim();
    editor.file = file;
    const { result } = await call('check_traefik', file, editor.value);
    show(editor, result);
  });
  $('check-run').addEventListener('click', () => check.request());
  $('check-input').addEventListener('input', () => {
    editor.refreshLines();
    check.request();
  });
  $('check-file').addEventListener('change', () => {
    const ext = $('check-file').value.trim().toLowerCase().endsWith('.toml') ? 'toml' : 'yml';
    $('check-format').value = ext;
    check.request();
  });
  $('check-format').addEventListener('change', () => {
    setFormat($('check-format').value);
    check.request();
  });
  $('check-load').addEventListener('click', () => {
    const shown = view();
    if (!shown) return;
    $('check-file').value = shown.file || 'dynamic.yml';
    $('check-format').value = 'yml';
    editor.value = shown.config;
    check.request();
  });
  // Text typed or pasted while this module was loading is checked now.
  editor.refreshLines();
  if (editor.value) check.request();
  else call('load_inspect').catch((err) => console.error(`could not load the validator: ${err.message}`));
  return check;
}

function show(editor, result) {
  const diagnostics = result.diagnostics;
  editor.mark(diagnostics);
  $('check-count').textContent = diagnostics.length ? `(${diagnostics.length})` : '';
  const goto = (loc) => editor.goto(loc.line, loc.column);
  const list = $('check-diagnostics');
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
function setFormat(ext) {
  const name = $('check-file').value.trim() || 'dynamic';
  const dot = name.lastIndexOf('.');
  $('check-file').value = `${dot > 0 ? name.slice(0, dot) : name}.${ext}`;
}
