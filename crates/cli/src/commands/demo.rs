//! `switchyard demo`: the whole workflow on the bundled example, no Docker needed.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use switchyard_model::state::HealthStatus;
use switchyard_model::traefik_files::UserFile;
use switchyard_model::{Change, EXAMPLE_FILES, EXAMPLE_SPEC, EnvKey, Timestamp};

use crate::args::{ChangeOpts, PolicyOpts, Target};
use crate::commands::change::apply_change;
use crate::commands::status::{StatusOpts, print_status};
use crate::local::LocalBackend;
use crate::session::{Failure, Session, parse_spec, refuse};
use crate::store::Store;

/// The whole workflow on the bundled example, with a fixed clock so its output is the same every run.
pub(crate) fn run(into: Option<&Path>, out: &mut dyn Write) -> Result<(), Failure> {
    let (dir, keep) = match into {
        Some(d) if d.exists() => {
            return Err(refuse(format!("{} already exists; --into wants a new directory", d.display())));
        }
        Some(d) => (d.to_path_buf(), true),
        None => (std::env::temp_dir().join(format!("switchyard-demo-{}", std::process::id())), false),
    };
    let spec = parse_spec(EXAMPLE_SPEC, "examples/whoami/switchyard.yaml")?;
    let files = EXAMPLE_FILES
        .iter()
        .map(|(name, text)| UserFile {
            declared: name.to_string(),
            path: format!("examples/whoami/{name}"),
            text: Ok(text.to_string()),
        })
        .collect();
    let mut s = Session { spec, now: Timestamp(0), actor: "demo".into(), source: None, gate: None, files };
    let store = Store::new(&dir, None);
    let mut backend = LocalBackend::new(store.clone());
    let start = Timestamp::parse("2026-01-05T09:00:00Z").map_err(|e| anyhow!(e))?;
    let key = EnvKey::new("whoami", "dev");
    let opts = ChangeOpts {
        target: Target { app: None, env: None },
        dry_run: false,
        break_lock: false,
        repair: false,
        policy: PolicyOpts::default(),
    };
    let dry = ChangeOpts { dry_run: true, ..opts.clone() };
    let healthy = |v: &str| Change::ObserveHealth { version: v.into(), status: HealthStatus::Healthy };
    let steps: Vec<(&str, Change, &ChangeOpts)> = vec![
        ("Create the environment", Change::Create, &opts),
        ("Deploy v1.2.0 as a preview", Change::Deploy { version: "v1.2.0".into() }, &opts),
        ("Its health check passes", healthy("v1.2.0"), &opts),
        (
            "Promote it: nothing is live yet, so it takes all traffic",
            Change::Promote { version: "v1.2.0".into(), share: 100 },
            &opts,
        ),
        ("Deploy v1.3.0 beside it", Change::Deploy { version: "v1.3.0".into() }, &opts),
        (
            "Promoting before it is healthy is refused; traffic stays",
            Change::Promote { version: "v1.3.0".into(), share: 10 },
            &opts,
        ),
        ("It becomes healthy", healthy("v1.3.0"), &opts),
        ("Preview the promotion at 10% (dry run)", Change::Promote { version: "v1.3.0".into(), share: 10 }, &dry),
        ("Promote it at 10%", Change::Promote { version: "v1.3.0".into(), share: 10 }, &opts),
        ("Shift to 50%", Change::SetShare { share: 50 }, &opts),
        ("Complete the switch", Change::Complete, &opts),
        ("Roll back: blue takes all traffic again, nothing redeployed", Change::Rollback, &opts),
    ];
    let result = (|| -> Result<(), Failure> {
        for (i, (title, request, opts)) in steps.iter().enumerate() {
            s.now = Timestamp(start.0 + 60 * i as u64);
            writeln!(out, "\n== {}. {title}", i + 1)?;
            match apply_change(&s, &mut backend, &key, request, opts, out) {
                Ok(_) => {}
                Err(Failure::Refused(text)) => write!(out, "refused, as intended:\n{text}")?,
                Err(e) => return Err(e),
            }
        }
        writeln!(out, "\n== Status")?;
        let opts = StatusOpts { json: false, check: false };
        print_status(&s, &mut backend, &Target { app: None, env: None }, &opts, out)?;
        let file = store.config_path(&switchyard_model::naming::config_file(&key.app, &key.env))?;
        writeln!(
            out,
            "\n== Traefik's file {}",
            if keep { file.display().to_string() } else { "(in a temporary directory)".into() }
        )?;
        out.write_all(std::fs::read(&file).with_context(|| format!("could not read {}", file.display()))?.as_slice())?;
        Ok(())
    })();
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}
