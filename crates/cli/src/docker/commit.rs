//! What a change commits on the Docker host, as shell scripts run in the proxy container under the lock: the
//! journal that makes a change survive being cut short (its commit point), the renames, the audit line, and the
//! all-in-one script of a routing-only change that checks nothing moved since it was planned.

use serde::Serialize;
use switchyard_model::naming;
use switchyard_model::{EnvState, Timestamp};

use super::{host, provider_dir};

/// One line of the audit log.
#[derive(Debug, Serialize)]
struct AuditLine<'a> {
    at: Timestamp,
    actor: Option<&'a str>,
    app: &'a str,
    env: &'a str,
    revision: u64,
    change: &'a str,
    before: &'a str,
    after: &'a str,
}

/// The audit file and line of the last change recorded in `state`.
pub(crate) fn audit_line(state: &EnvState) -> Option<(String, String)> {
    let name = naming::env_stem(&state.app, &state.env);
    state.history.last().map(|c| {
        let line = AuditLine {
            at: c.at,
            actor: c.actor.as_deref(),
            app: &state.app,
            env: &state.env,
            revision: c.revision,
            change: &c.summary,
            before: &c.before,
            after: &c.after,
        };
        (format!("{name}.jsonl"), serde_json::to_string(&line).unwrap_or_default())
    })
}

/// Finishes a change of the environment `$name` that was interrupted after its commit point: the journal lists
/// the renames (source and target, a line each) and the audit line waits beside it. Run under the lock.
pub(crate) const REPLAY: &str = r#"j="/switchyard/state/.$name.journal"; p="/switchyard/audit/.$name.pending"; a="/switchyard/audit/$name.jsonl"
if [ -e "$j" ]; then
  while IFS= read -r src && IFS= read -r dst; do
    if [ -e "$src" ]; then mv -f "$src" "$dst"; fi
  done < "$j"
  if [ -e "$p" ] && [ "$(tail -n 1 "$a" 2>/dev/null)" != "$(cat "$p")" ]; then cat "$p" >> "$a"; fi
  rm -f "$p" "$j"
  printf 'switchyard-replayed\n'
fi
"#;

/// Commits the environment `$name`'s files (pairs of uploaded temporary name and target in "$@") and the audit
/// line `$AUDIT`: the journal goes into place first (the commit point: from there on an interrupted change is
/// finished by the next run), then the renames and the audit line, then the journal goes away.
pub(crate) const COMMIT: &str = r#"j="/switchyard/state/.$name.journal"; p="/switchyard/audit/.$name.pending"; a="/switchyard/audit/$name.jsonl"
mkdir -p /switchyard/state /switchyard/audit
: > "$j.tmp"
for x in "$@"; do printf '%s\n' "$x" >> "$j.tmp"; done
if [ -n "$AUDIT" ]; then printf '%s\n' "$AUDIT" > "$p"; else rm -f "$p"; fi
mv -f "$j.tmp" "$j"
while [ $# -gt 0 ]; do mv -f "$1" "$2"; shift 2; done
if [ -e "$p" ]; then cat "$p" >> "$a"; fi
rm -f "$p" "$j"
"#;

/// Takes the lock, finishes an interrupted change, checks that every state's revision and Traefik's directory
/// are the ones the change was planned on, and commits the files it received on stdin (the first `$UPLOADS`
/// pairs of "$@"; the pairs after them move files out of Traefik's directory); the lock is released however it
/// ends. Exit 3: locked by someone else; 4: a state or the directory moved on.
pub(crate) fn atomic_commit_script() -> String {
    format!(
        r#"name="$1"; l="/switchyard/locks/$1"
shift 1
discard() {{ i=0; while [ "$i" -lt "$UPLOADS" ] && [ $# -gt 0 ]; do rm -f "$1"; shift 2; i=$((i+1)); done; }}
mkdir -p /switchyard/locks /switchyard/audit /switchyard/state
tar -x -f - -C /switchyard || exit 5
if ! mkdir "$l" 2>/dev/null; then
  discard "$@"
  exit 3
fi
trap 'rm -rf "$l"' EXIT
printf '%s' "$HOLDER" > "$l/holder"
{REPLAY}
n=0
for f in /switchyard/state/*.rev; do
  [ -e "$f" ] || continue
  case ";$EXPECTED;" in *";${{f##*/}}=$(cat "$f");"*) n=$((n+1)) ;; *) n=-1; break ;; esac
done
{sum}if [ "$n" != "$COUNT" ] || [ "$dynsum" != "$DYNSUM" ]; then
  discard "$@"
  exit 4
fi
set -e
{COMMIT}
exit 0"#,
        sum = provider_dir::sum_script()
    )
}

/// The journal's renames that take `removals` (names in Traefik's directory) out of it: into `staging/`, where
/// Traefik does not look.
pub(crate) fn removal_renames(removals: &[String]) -> Vec<String> {
    removals
        .iter()
        .flat_map(|n| [format!("{}/dynamic/{n}", host::ROOT), format!("{}/{}", host::ROOT, host::staged("removed", n))])
        .collect()
}
