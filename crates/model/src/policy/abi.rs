//! The ABI (v1, `docs/policy-abi.md`): what a policy receives and answers, and how a host reads an answer.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::Spec;
use crate::state::EnvState;
use crate::traefik::RenderedConfig;
use switchyard_diagnostics::{Diagnostic, Location, Severity};

/// The ABI version this model writes and reads. A new major version gets a new entry point
/// (`switchyard_policy_v2`); fields may be added to a version without changing it.
pub const ABI_VERSION: u32 = 1;

/// The requested change, as the command line names it. Its keys come in this order and its strings are
/// validated names (letters, digits, `.`, `_`, `+`, `-`), so a policy may scan the raw JSON for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeInput {
    /// `create`, `repair`, `deploy`, `observe`, `promote`, `shift`, `complete`, `rollback`, `retire`, `cleanup`.
    pub command: String,
    pub app: String,
    pub env: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Percent of production traffic the candidate gets (`promote`, `shift`); always the last key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<u8>,
}

/// The spec's file and text, for locating findings (lines and columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub file: String,
    pub text: String,
}

/// What the host sends, borrowed (the host serialises it without copying the world).
#[derive(Debug, Serialize)]
pub struct InputRef<'a> {
    pub abi: u32,
    /// First after `abi`: `{"abi":1,"change":null,` or `{"abi":1,"change":{"command":...}`.
    pub change: Option<&'a ChangeInput>,
    pub spec: &'a Spec,
    pub spec_source: Option<&'a Source>,
    pub before: Vec<&'a EnvState>,
    pub after: Vec<&'a EnvState>,
    pub config: BTreeMap<String, &'a RenderedConfig>,
    pub plan: &'a serde_json::Value,
}

/// What a policy receives (see `docs/policy-abi.md`). Unknown fields are ignored: later minor versions add some.
#[derive(Debug, Clone, Deserialize)]
pub struct Input {
    pub abi: u32,
    #[serde(default)]
    pub change: Option<ChangeInput>,
    pub spec: Spec,
    #[serde(default)]
    pub spec_source: Option<Source>,
    #[serde(default)]
    pub before: Vec<EnvState>,
    #[serde(default)]
    pub after: Vec<EnvState>,
    #[serde(default)]
    pub config: BTreeMap<String, RenderedConfig>,
}

/// One finding: a diagnostic with the policy's own code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// Key path, e.g. `apps.whoami.environments.prod.tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl From<&Diagnostic> for Finding {
    fn from(d: &Diagnostic) -> Self {
        Finding {
            code: d.code.to_string(),
            severity: d.severity,
            message: d.message.clone(),
            path: d.path.clone(),
            hint: None,
            hints: d.hints.clone(),
            file: d.location.as_ref().map(|l| l.file.clone()),
            line: d.location.as_ref().map(|l| l.line),
            column: d.location.as_ref().map(|l| l.column),
        }
    }
}

impl Finding {
    /// The finding as a diagnostic, with its own code (owned: a policy's codes are not switchyard's).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut hints = Vec::new();
        hints.extend(self.hint.clone());
        hints.extend(self.hints.iter().cloned());
        Diagnostic {
            code: Cow::Owned(self.code.clone()),
            severity: self.severity,
            message: self.message.clone(),
            path: self.path.clone(),
            location: self.file.as_ref().map(|file| Location {
                file: file.clone(),
                line: self.line.unwrap_or(1),
                column: self.column.unwrap_or(1),
            }),
            hints,
        }
    }
}

/// A policy's answer: its findings, or why it could not decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Findings { findings: Vec<Finding> },
    Error { error: String },
}

/// Findings sorted the way reports show them: errors first, then by code and path.
pub fn errors_first(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.code.cmp(&b.code)).then_with(|| a.path.cmp(&b.path))
    });
}

/// The longest message or hint of a finding kept, in characters: a policy cannot flood a terminal or a page.
const MAX_TEXT: usize = 4000;

/// `text` cut to `max` characters, with `...` when it was cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// Reads a policy's answer (the UTF-8 text it returned) as every host must: its findings, each with a code of 1
/// to 64 letters, digits, `-`, `_`, `.` or `/`; or why it is not an answer (the error names no policy: the host
/// adds that).
pub fn read_answer(text: &str) -> Result<Vec<Finding>, String> {
    let answer: Answer = serde_json::from_str(text).map_err(|e| {
        format!("its answer is not ABI v{ABI_VERSION} JSON ({{\"findings\":[...]}} or {{\"error\":\"...\"}}): {e}")
    })?;
    match answer {
        Answer::Error { error } => Err(format!("could not decide: {}", clip(&error, 2000))),
        Answer::Findings { findings } => {
            for (i, f) in findings.iter().enumerate() {
                let good = !f.code.is_empty()
                    && f.code.len() <= 64
                    && f.code.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
                if !good {
                    return Err(format!(
                        "finding {i} has the code {:?}; codes are 1 to 64 letters, digits, '-', '_', '.' or '/'",
                        clip(&f.code, 80)
                    ));
                }
            }
            Ok(findings)
        }
    }
}

/// A finding as a diagnostic, its message naming the policy (`name`, the module's file name) that reported it.
/// Messages and hints are clipped.
pub fn finding_diagnostic(name: &str, finding: &Finding) -> Diagnostic {
    let mut d = finding.to_diagnostic();
    d.message = format!("{} (policy {name})", clip(&d.message, MAX_TEXT));
    for hint in &mut d.hints {
        *hint = clip(hint, MAX_TEXT);
    }
    d
}
