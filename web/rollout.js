// The Rollout panel: the environment's rollout replayed against made-up traffic (switchyard-model's replay,
// in the module loaded on demand). The decisions and their words are the model's, the ones
// `switchyard promote` prints; this file only reads the form and shows the answer.

import { $, setText } from './page.js';
import { call, Latest } from './calls.js';

/** The panel: replays on open and on every submit; `idle()` waits for the latest run. */
export function createRollout({ session, item }) {
  const run = new Latest(async () => {
    const { result } = await call('replay_rollout', session.spec, session.app, session.env, JSON.stringify(traffic()));
    $('rollout-diagnostics').replaceChildren(...result.diagnostics.map(item));
    const ok = result.ok;
    if (!ok) {
      setText($('rollout-of'), '');
      setText($('rollout-text'), '');
      return;
    }
    const r = ok.rollout;
    const of = `${session.app}/${session.env}: ${ok.declared ? 'its rollout' : 'no rollout declared, the defaults'}: steps ${r.steps.join(', ')}%, ${r.step_time} a step, bake ${r.bake}, errors at most ${r.max_error_rate}${r.max_p95 ? `, p95 at most ${r.max_p95}` : ''}, at least ${r.min_requests} requests`;
    setText($('rollout-of'), of);
    setText($('rollout-text'), ok.text);
    $('rollout-text').dataset.outcome = ok.replay.outcome;
  });
  $('rollout-form').addEventListener('submit', (e) => {
    e.preventDefault();
    run.request();
  });
  run.request();
  return run;
}

/** The form as the adapter's `replay_rollout` takes it (switchyard-model's `replay::Traffic`). */
function traffic() {
  const number = (id) => Math.max(0, Number($(id).value) || 0);
  return {
    rate: number('rollout-rate'),
    candidate_errors: number('rollout-errors'),
    candidate_latency_ms: number('rollout-latency'),
    candidate_fails_after_s: Math.floor(number('rollout-after')),
    live_errors: number('rollout-live-errors'),
    live_latency_ms: number('rollout-live-latency'),
  };
}
