//! switchyard: blue/green and preview deployments of Docker Compose apps behind Traefik.
//!
//! This binary is the I/O edge: it reads files and the clock, takes locks, and executes the plans that
//! `switchyard-model` computes. Every decision about routing, slots, weights and retention is the model's.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod backend;
mod commands;
mod docker;
mod fsio;
mod gate;
mod inspect;
mod local;
mod policy;
#[cfg(test)]
mod policy_tests;
mod report;
mod routing;
mod session;
mod store;
mod traefik_api;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::session::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match commands::run(&cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(text)) => {
            let _ = out.flush();
            eprint!("{text}");
            ExitCode::from(1)
        }
        Err(Failure::Broken(err)) => {
            let _ = out.flush();
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
