// The editors (the spec, the state, the Traefik configuration to check): a textarea with a line-numbered
// gutter and marks at the lines with problems; and a diagnostic as a list item that goes to its line.

import { el } from './page.js';

export class Editor {
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

/** A diagnostic as a list item; one with a location calls `goto(location)` when clicked (or Enter). */
export function diagnosticItem(d, goto) {
  const loc = d.location;
  const item = el('li', { class: `diagnostic ${d.severity}`, 'data-code': d.code });
  if (loc) {
    item.setAttribute('data-file', loc.file);
    item.setAttribute('data-line', String(loc.line));
    item.setAttribute('data-column', String(loc.column));
    item.tabIndex = 0;
    item.title = 'Go to the line';
    const go = () => goto(loc);
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
