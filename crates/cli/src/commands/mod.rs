//! One module per command; [`run`] dispatches the parsed command line to it.

use std::io::Write;

use switchyard_model::Change;
use switchyard_model::state::HealthStatus;

use crate::args::{ChangeOpts, Cli, Command, Observed};
use crate::session::Failure;

pub(crate) mod change;
mod check;
mod demo;
mod install;
pub(crate) mod render;
mod rollout;
mod route;
pub(crate) mod status;
mod validate;

/// Runs the command `cli` names, writing what it reports to `out`.
pub(crate) fn run(cli: &Cli, out: &mut dyn Write) -> Result<(), Failure> {
    match &cli.command {
        Command::Install(args) => install::run(cli, args, out),
        Command::Create(opts) => change::run(cli, opts, Change::Create, out),
        Command::Repair(opts) => change::run(cli, &ChangeOpts { repair: true, ..opts.clone() }, Change::Create, out),
        Command::Deploy { name, opts } => change::run(cli, opts, Change::Deploy { version: name.clone() }, out),
        Command::Observe { name, status, opts } => {
            let status = match status {
                Observed::Healthy => HealthStatus::Healthy,
                Observed::Unhealthy => HealthStatus::Unhealthy,
            };
            change::run(cli, opts, Change::ObserveHealth { version: name.clone(), status }, out)
        }
        Command::Promote { name, share, rollout: args, traefik_api, opts } => {
            rollout::promote(cli, name, *share, args, traefik_api.as_deref(), opts, out)
        }
        Command::Rollout { action, traefik_api, take_over, opts } => {
            rollout::run(cli, *action, traefik_api.as_deref(), *take_over, opts, out)
        }
        Command::Shift { share, opts } => change::run(cli, opts, Change::SetShare { share: *share }, out),
        Command::Complete(opts) => change::run(cli, opts, Change::Complete, out),
        Command::Rollback(opts) => change::run(cli, opts, Change::Rollback, out),
        Command::Retire { name, opts } => change::run(cli, opts, Change::Retire { version: name.clone() }, out),
        Command::Cleanup(opts) => change::run(cli, opts, Change::Cleanup, out),
        Command::Status(args) => status::run(cli, args, out),
        Command::Render(args) => render::run(cli, args, out),
        Command::Validate(args) => validate::run(cli, args, out),
        Command::Route(args) => route::run(cli, args, out),
        Command::Check(args) => check::run(cli, args, out),
        Command::Schema => {
            out.write_all(switchyard_model::spec::json_schema().as_bytes())?;
            Ok(())
        }
        Command::Demo(args) => demo::run(args.into.as_deref(), out),
    }
}
