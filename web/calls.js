// Every call into the model goes to the worker (worker.js), so the page never waits on it.

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

/** Calls the adapter's `fn` (crates/wasm) in the worker: resolves to `{ result, ms }`, the answer parsed. */
export function call(fn, ...args) {
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

/** Runs `work` again whenever asked, one run at a time, the latest request winning; `idle()` waits for it. */
export class Latest {
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
