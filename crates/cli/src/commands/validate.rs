//! `switchyard validate`: Traefik dynamic configuration and switchyard specs, every problem reported.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use switchyard_model::traefik_files;
use switchyard_model::{Diagnostic, Severity, Spec};

use crate::args::{Cli, ReportFormat, ValidateArgs};
use crate::inspect;
use crate::report::report_diagnostics;
use crate::session::{Failure, read_user_files};

pub(crate) fn run(cli: &Cli, args: &ValidateArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let ValidateArgs { paths, format, json, deny_warnings } = args;
    let format = if *json { ReportFormat::Json } else { *format };
    let inputs = if paths.is_empty() {
        let text = std::fs::read_to_string(&cli.spec)
            .with_context(|| format!("could not read the spec {}", cli.spec.display()))?;
        inspect::Inputs { specs: vec![(cli.spec.display().to_string(), text)], ..Default::default() }
    } else {
        inspect::read(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?
    };
    let mut diagnostics = inputs.diagnostics.clone();
    if !inputs.traefik.is_empty() {
        diagnostics.extend(check_traefik(&inputs.traefik));
    }
    // A spec's own files (`traefik.files`) are read beside it and checked with it.
    let mut user_files: Vec<(String, String)> = Vec::new();
    for (file, text) in &inputs.specs {
        match Spec::parse(text, file) {
            Ok(spec) => {
                diagnostics.extend(spec.warnings.iter().cloned());
                let files = read_user_files(&spec.spec, Path::new(file));
                diagnostics.extend(traefik_files::diagnose(&spec.spec, text, file, &files));
                user_files.extend(files.into_iter().filter_map(|f| Some((f.path, f.text.ok()?))));
            }
            Err(d) => diagnostics.extend(d),
        }
    }
    let checked: Vec<String> =
        inputs.traefik.iter().chain(&inputs.specs).chain(&user_files).map(|(n, _)| n.clone()).collect();
    let sources: std::collections::BTreeMap<String, String> =
        inputs.traefik.into_iter().chain(inputs.specs).chain(user_files).collect();
    report_diagnostics(&diagnostics, &sources, format, &checked, out)?;
    let failed = diagnostics.iter().any(|d| d.is_error() || (*deny_warnings && d.severity == Severity::Warning));
    if failed { Err(Failure::Refused(String::new())) } else { Ok(()) }
}

/// Every problem in a set of Traefik configuration files.
fn check_traefik(files: &[(String, String)]) -> Vec<Diagnostic> {
    switchyard_traefik::validate::validate_files(files)
}
