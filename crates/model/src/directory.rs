//! Traefik's provider directory as a change leaves it. Traefik reads the whole directory as one configuration:
//! switchyard's files (one per environment), the user's own files (`traefik.files`, shipped with them) and
//! anything else put there. A change replaces some of those files; Traefik then disables whatever the
//! directory as a whole leaves broken (a router naming a middleware no file defines) or refuses a file
//! outright, and with it every change of the directory. So before a change writes anything, [`check`] runs
//! the validator ([`switchyard_traefik::validate`]) on the directory as it will be after each configuration the change
//! writes, and an error stops the change.
//!
//! The user's files go in with the change that follows their edit ([`shipment`]): those whose text differs
//! from the directory's, written before the environment's file (definitions before references). A file
//! switchyard shipped earlier and the spec no longer declares is removed by the same change: it is recorded in
//! [`SHIPPED_LIST`], so files someone else put in the directory are never touched. Removing it cannot break
//! anything unseen: the directory is checked without it, and a file that still refers to it stops the change.

use std::collections::{BTreeMap, BTreeSet};

use crate::traefik_files::UserFile;
use switchyard_diagnostics::Diagnostic;
use switchyard_traefik::validate;

/// The list of the user's files switchyard shipped into the directory, one name a line. Traefik ignores it (a
/// name it does not read), and the spec may not declare a file of that name (SY0151).
pub const SHIPPED_LIST: &str = ".switchyard-files";

/// What a change writes in the directory beside the environment's own file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shipment {
    /// The user's files whose text differs from the directory's (or that it lacks): name and text, in the
    /// order the spec declares them.
    pub writes: Vec<(String, String)>,
    /// Files shipped earlier that the spec no longer declares; [`SHIPPED_LIST`] too when nothing is shipped
    /// any more.
    pub removals: Vec<String>,
    /// The new text of [`SHIPPED_LIST`], when it changes.
    pub list: Option<String>,
}

impl Shipment {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.removals.is_empty() && self.list.is_none()
    }

    /// The directory `existing` (name and text of each file) after this shipment and the files `configs`.
    pub fn apply(&self, existing: &[(String, String)], configs: &[(String, String)]) -> Vec<(String, String)> {
        let mut files: BTreeMap<&str, &str> = existing.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        for (name, text) in self.writes.iter().chain(configs) {
            files.insert(name, text);
        }
        if let Some(list) = &self.list {
            files.insert(SHIPPED_LIST, list);
        }
        for name in &self.removals {
            files.remove(name.as_str());
        }
        files.into_iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
    }
}

/// The names [`SHIPPED_LIST`] records.
fn shipped(existing: &[(String, String)]) -> BTreeSet<&str> {
    existing
        .iter()
        .find(|(name, _)| name == SHIPPED_LIST)
        .map(|(_, text)| text.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .unwrap_or_default()
}

/// What a change ships of the user's `files` (those that could not be read are left out: the spec's check
/// refuses them first) into the directory `existing`.
pub fn shipment(files: &[UserFile], existing: &[(String, String)]) -> Shipment {
    let current: BTreeMap<&str, &str> = existing.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let mut shipment = Shipment::default();
    let mut declared = BTreeSet::new();
    for file in files {
        let Ok(text) = &file.text else { continue };
        let name = file.name();
        if !declared.insert(name) {
            continue;
        }
        if current.get(name) != Some(&text.as_str()) {
            shipment.writes.push((name.to_string(), text.clone()));
        }
    }
    let before = shipped(existing);
    for name in before.difference(&declared) {
        if current.contains_key(name) {
            shipment.removals.push((*name).to_string());
        }
    }
    let list: String = declared.iter().map(|n| format!("{n}\n")).collect();
    let list_now = current.get(SHIPPED_LIST).copied();
    if declared.is_empty() {
        if list_now.is_some() {
            shipment.removals.push(SHIPPED_LIST.to_string());
        }
    } else if list_now != Some(list.as_str()) {
        shipment.list = Some(list);
    }
    shipment
}

/// An error found in the directory as a change would leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Located in a file of the directory (by its name there).
    pub diagnostic: Diagnostic,
    /// The text of that file as the change would leave it (empty when the diagnostic has no location).
    pub text: String,
}

/// Checks the directory `existing` as the change leaves it: with `shipment` and each of `configs` (the
/// environment's files the change writes, name and text: every configuration of its plan and of its undo; none
/// for a change that writes no configuration). Returns the errors found (the same error once), each in the
/// directory's file where it is; an error the directory already has gets a hint saying so.
pub fn problems_after(
    existing: &[(String, String)],
    shipment: &Shipment,
    configs: &[(String, String)],
) -> Vec<Problem> {
    // The same configuration is checked once.
    let mut variants: Vec<&[(String, String)]> = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        if !configs[..i].contains(config) {
            variants.push(std::slice::from_ref(config));
        }
    }
    if variants.is_empty() {
        variants.push(&[]);
    }
    let mut problems: Vec<Problem> = Vec::new();
    for config in variants {
        let files = shipment.apply(existing, config);
        for d in validate::validate_files(&files) {
            if d.is_error() && !problems.iter().any(|p| p.diagnostic == d) {
                let file = d.location.as_ref().map(|l| l.file.as_str());
                let text = files.iter().find(|(n, _)| Some(n.as_str()) == file).map(|(_, t)| t.clone());
                problems.push(Problem { diagnostic: d, text: text.unwrap_or_default() });
            }
        }
    }
    if problems.is_empty() {
        return problems;
    }
    let already: Vec<Diagnostic> = validate::validate_files(existing).into_iter().filter(|d| d.is_error()).collect();
    let written: BTreeSet<&str> = shipment.writes.iter().chain(configs).map(|(n, _)| n.as_str()).collect();
    for Problem { diagnostic: d, .. } in &mut problems {
        if already.contains(d) {
            d.hints.push(
                "Traefik's directory has this problem already; this change does not cause it, but nothing is \
                 written while it is there"
                    .into(),
            );
        }
        let file = d.location.as_ref().map(|l| l.file.clone()).unwrap_or_default();
        if !written.contains(file.as_str())
            && let Some((app, env)) = environment_of(&file)
        {
            d.hints.push(format!(
                "{file} is the file of {app}/{env}, which this change does not write: `switchyard repair --app {app} \
                 --env {env}` writes it again from its state and the spec"
            ));
        }
    }
    problems
}

/// The app and environment of a switchyard file name (`switchyard_<app>_<env>.yml`; both are DNS labels, so
/// without `_`).
fn environment_of(file: &str) -> Option<(&str, &str)> {
    let rest = file.strip_prefix("switchyard_")?.strip_suffix(".yml")?;
    let (app, env) = rest.split_once('_')?;
    (!app.is_empty() && !env.is_empty() && !env.contains('_')).then_some((app, env))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, text: &str) -> UserFile {
        UserFile { declared: format!("conf/{name}"), path: format!("spec/conf/{name}"), text: Ok(text.into()) }
    }

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
    }

    #[test]
    fn only_what_differs_is_shipped_and_what_is_no_longer_declared_goes() {
        let existing = files(&[
            ("a.yml", "a: 1\n"),
            ("old.yml", "o\n"),
            ("theirs.yml", "t\n"),
            (SHIPPED_LIST, "a.yml\nold.yml\n"),
            ("switchyard_w_dev.yml", "{}\n"),
        ]);
        let s = shipment(&[user("a.yml", "a: 1\n"), user("b.yml", "b\n")], &existing);
        assert_eq!(s.writes, files(&[("b.yml", "b\n")]));
        assert_eq!(s.removals, vec!["old.yml".to_string()], "never a file switchyard did not ship");
        assert_eq!(s.list.as_deref(), Some("a.yml\nb.yml\n"));
        let after = s.apply(&existing, &[]);
        let names: Vec<&str> = after.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, [SHIPPED_LIST, "a.yml", "b.yml", "switchyard_w_dev.yml", "theirs.yml"]);

        let after = files(&[("a.yml", "a: 1\n"), ("b.yml", "b\n"), (SHIPPED_LIST, "a.yml\nb.yml\n")]);
        assert!(shipment(&[user("a.yml", "a: 1\n"), user("b.yml", "b\n")], &after).is_empty());
        let none = shipment(&[], &after);
        assert_eq!(none.removals, vec!["a.yml".to_string(), "b.yml".to_string(), SHIPPED_LIST.to_string()]);
        assert!(shipment(&[], &files(&[("theirs.yml", "t\n")])).is_empty());
    }

    #[test]
    fn the_directory_is_checked_as_each_configuration_leaves_it() {
        let env = "http:\n  routers:\n    r:\n      rule: Host(`a.test`)\n      service: s\n      middlewares: [m@file]\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: \"http://s:80\"}]\n";
        let middleware = "http:\n  middlewares:\n    m:\n      headers:\n        frameDeny: true\n";
        let configs = files(&[("switchyard_w_dev.yml", env)]);
        // The middleware's file is shipped with the change: fine.
        let s = shipment(&[user("m.yml", middleware)], &[]);
        assert!(problems_after(&[], &s, &configs).is_empty());
        // Without it, the router would be disabled.
        let errors = problems_after(&[], &Shipment::default(), &configs);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].diagnostic.code, "SY3202");
        assert_eq!(errors[0].text, env, "the text of the file it points into");
        // Removing the file that another environment's file still uses: refused, with the way out.
        let existing = files(&[("m.yml", middleware), (SHIPPED_LIST, "m.yml\n"), ("switchyard_w_prod.yml", env)]);
        let s = shipment(&[], &existing);
        let errors = problems_after(&existing, &s, &files(&[("switchyard_w_dev.yml", "{}\n")]));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let d = &errors[0].diagnostic;
        assert_eq!(d.location.as_ref().unwrap().file, "switchyard_w_prod.yml");
        assert!(d.hints.iter().any(|h| h.contains("switchyard repair --app w --env prod")), "{errors:#?}");
        // A problem the directory already has is said to be so.
        let broken = files(&[("theirs.yml", "http:\n  middlewares: {}\n")]);
        let errors = problems_after(&broken, &Shipment::default(), &[]);
        assert!(!errors.is_empty());
        assert!(errors.iter().all(|p| p.diagnostic.hints.iter().any(|h| h.contains("already"))), "{errors:#?}");
    }
}
