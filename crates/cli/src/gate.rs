//! Policies as a gate: the ABI v1 input for a spec, its states and a change, and the run of every policy
//! module on it. `switchyard check` reports what they find; `--policy` on a command that changes something
//! refuses the change, before anything is applied, when one reports an error.

use anyhow::Context as _;
use switchyard_model::Diagnostic;

use crate::policy::{Host, Limits, Policy, PolicyError, PolicyRef, cache_dir, to_diagnostic};

/// The policy modules of one command, loaded and compiled.
#[derive(Debug)]
pub(crate) struct Gate {
    host: Host,
    policies: Vec<Policy>,
}

/// What the policies said: findings as diagnostics, and the modules that could not answer.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) failures: Vec<PolicyError>,
    /// Which policies (by their place on the command line) are among `failures`.
    pub(crate) failed: Vec<usize>,
}

impl Gate {
    /// Loads every policy (None without any). A module that cannot be loaded (unreadable, a hash mismatch,
    /// imports, missing exports) stops the command: a gate with a hole in it is no gate.
    pub(crate) fn open(policies: &[PolicyRef], limits: Limits) -> anyhow::Result<Option<Gate>> {
        if policies.is_empty() {
            return Ok(None);
        }
        let cache = cache_dir();
        let host = Host::new(limits, cache.as_deref()).context("could not start the policy engine (wasmtime)")?;
        let mut loaded = Vec::new();
        for policy in policies {
            loaded.push(host.load(policy)?);
        }
        Ok(Some(Gate { host, policies: loaded }))
    }

    /// Runs every policy on `input`; a module that fails does not stop the others.
    pub(crate) fn evaluate(&self, input: &[u8]) -> Verdict {
        let mut verdict = Verdict::default();
        for (i, policy) in self.policies.iter().enumerate() {
            match self.host.run(policy, input) {
                Ok(findings) => verdict.diagnostics.extend(findings.iter().map(|f| to_diagnostic(policy, f))),
                Err(e) => {
                    verdict.failures.push(e);
                    verdict.failed.push(i);
                }
            }
        }
        verdict
    }

    /// One line per policy: its hash, and whether its compiled code came from the cache.
    pub(crate) fn describe(&self) -> String {
        let mut text = String::new();
        for p in &self.policies {
            let how = if p.cached { "compiled code from the cache" } else { "compiled" };
            text.push_str(&format!("policy {}: sha256:{}, {how}\n", p.name, p.sha256));
        }
        text
    }
}
