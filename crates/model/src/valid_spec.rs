//! A spec that passed validation ([`ValidSpec`]): the spec read ([`Spec::parse`]), every value checked
//! ([`crate::spec`]) and its host templates compiled ([`crate::hosts`]). Above both, so that neither needs the
//! other's module.

use switchyard_diagnostics::{Diagnostic, has_errors};
use switchyard_yaml::SourceMap;

use crate::hosts::Hosts;
use crate::spec::Spec;

/// A parsed spec that passed validation, with its compiled host templates and any warnings.
#[derive(Debug)]
pub struct ValidSpec {
    pub spec: Spec,
    pub hosts: Hosts,
    pub warnings: Vec<Diagnostic>,
}

impl Spec {
    /// Parses and validates a spec. On failure, every problem found, each located in `file`.
    pub fn parse(source: &str, file: &str) -> Result<ValidSpec, Vec<Diagnostic>> {
        let spec: Spec = switchyard_yaml::from_str(source, file).map_err(|d| vec![*d])?;
        let mut diagnostics = Vec::new();
        let hosts = spec.validate(&mut diagnostics);
        // Locating keys reads the whole document again: only when there is something to locate.
        if diagnostics.iter().any(|d| d.location.is_none() && d.path.is_some()) {
            SourceMap::new(source, file).attach(&mut diagnostics);
        }
        match hosts {
            Some(hosts) if !has_errors(&diagnostics) => Ok(ValidSpec { spec, hosts, warnings: diagnostics }),
            _ => Err(diagnostics),
        }
    }

    /// Checks every value; returns the compiled host templates when they all compile.
    pub fn validate(&self, out: &mut Vec<Diagnostic>) -> Option<Hosts> {
        self.check_values(out);
        let hosts = Hosts::compile(self, out)?;
        hosts.check_spec_hosts(self, out);
        Some(hosts)
    }
}
