// The share link: the whole session (spec, states, selection, clock) deflated into the URL fragment.

import { $ } from './page.js';

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

async function encodeSession({ spec, states, app, env, now }) {
  const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, spec, states, app, env, now }));
  if (typeof CompressionStream === 'function') return `z${toBase64Url(await pipe(bytes, new CompressionStream('deflate-raw')))}`;
  return `j${toBase64Url(bytes)}`;
}

/** The session a link's fragment carries: `{ spec, states, app, env, now }`; throws when it is not one. */
export async function decodeSession(fragment) {
  const kind = fragment[0];
  let bytes = fromBase64Url(fragment.slice(1));
  if (kind === 'z') bytes = await pipe(bytes, new DecompressionStream('deflate-raw'));
  else if (kind !== 'j') throw new Error('not a playground link');
  const data = JSON.parse(new TextDecoder().decode(bytes));
  if (data.v !== 1 || typeof data.spec !== 'string' || typeof data.states !== 'string') throw new Error('not a playground link');
  return data;
}

/** Puts `session` into the page's link, shows the link and copies it. */
export async function share(session) {
  const fragment = await encodeSession(session);
  history.replaceState(null, '', `#${fragment}`);
  const link = $('link');
  link.value = location.href;
  link.select();
  try { await navigator.clipboard.writeText(location.href); } catch { /* the link is selected to copy by hand */ }
}
