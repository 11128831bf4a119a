//! The user's own Traefik dynamic configuration files (`traefik.files` of the spec) and what the environments
//! name in them: the middlewares (`middlewares: [secure-headers@file]`) and TLS options (`tls: {options:
//! modern@file}`) every router of an environment uses.
//!
//! The Traefik that `switchyard --docker install` runs has one provider, the file provider on switchyard's
//! directory, where these files land beside switchyard's own: a middleware or TLS options that none of them
//! defines does not exist there, and Traefik disables every router that names it (`middleware
//! "secure-headers@file" does not exist`, `unknown TLS options: modern@file`; the end-to-end test
//! `traefik_example` shows it on the real binary).
//! [`check`] finds that before anything is written: the caller reads the files (this crate does no I/O) and
//! hands over their texts; the files themselves go through the validator ([`switchyard_traefik::validate`]), their
//! findings at their own lines.
//!
//! This is a step of its own, not part of [`Spec::parse`](crate::Spec::parse): the playground and the policy
//! step parse specs without the files beside them, and a spec is no less valid there for naming `x@file`.
//!
//! The codes are SY0157-SY0159, SY0162 and SY0163, each with its severity and meaning in
//! [`switchyard_diagnostics::registry`].

use std::collections::BTreeMap;

use crate::names;
use crate::proxy::INTERNAL_MIDDLEWARES;
use crate::spec::Spec;
use switchyard_diagnostics::{Diagnostic, KeyPath, did_you_mean};
use switchyard_traefik::dynamic::{self, Section};
use switchyard_traefik::validate;
use switchyard_yaml::SourceMap;

/// One file of `traefik.files`, as the caller read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFile {
    /// As written in `traefik.files` (relative to the spec).
    pub declared: String,
    /// Where it was read, as its user opens it (the spec's directory joined with `declared`); its diagnostics
    /// name this file.
    pub path: String,
    /// Its text, or why it could not be read.
    pub text: Result<String, String>,
}

impl UserFile {
    /// Its name in Traefik's directory.
    pub fn name(&self) -> &str {
        names::base_name(&self.declared)
    }
}

/// What a reference names: its kind, for messages and the section it is looked up in.
#[derive(Clone, Copy)]
enum Kind {
    Middleware,
    TlsOptions,
}

impl Kind {
    fn section(self) -> Section {
        match self {
            Kind::Middleware => Section::HttpMiddleware,
            Kind::TlsOptions => Section::TlsOptions,
        }
    }
    /// `the middleware "x@file" is` / `the TLS options "x@file" are`.
    fn subject(self, reference: &str) -> String {
        match self {
            Kind::Middleware => format!("the middleware {reference:?} is"),
            Kind::TlsOptions => format!("the TLS options {reference:?} are"),
        }
    }
    /// Where a definition goes in a file: `http.middlewares.x`.
    fn place(self, name: &str) -> String {
        match self {
            Kind::Middleware => format!("http.middlewares.{name}"),
            Kind::TlsOptions => format!("tls.options.{name}"),
        }
    }
    fn example_file(self) -> &'static str {
        match self {
            Kind::Middleware => "middlewares.yml",
            Kind::TlsOptions => "tls.yml",
        }
    }
    fn missing_code(self) -> &'static str {
        match self {
            Kind::Middleware => "SY0157",
            Kind::TlsOptions => "SY0159",
        }
    }
}

/// Checks the files of `traefik.files` and what the spec's environments name in them. `spec` is a parsed spec
/// (its values already validated by [`Spec::parse`](crate::Spec::parse)) whose text is `source`, located as
/// `file`; `files` holds what the caller read for each declared file. Every problem at once: the spec's at its
/// line and key path, the files' at their own file:line.
pub fn diagnose(spec: &Spec, source: &str, file: &str, files: &[UserFile]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let files_path = KeyPath::root().key("traefik").key("files");
    let mut readable: Vec<(String, String)> = Vec::new();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    for (i, declared) in spec.traefik.files.iter().enumerate() {
        let found = files.iter().find(|f| f.declared == *declared);
        match found.map(|f| (&f.path, &f.text)) {
            Some((path, Ok(text))) => {
                let name = names::base_name(declared).to_string();
                if !paths.contains_key(&name) {
                    paths.insert(name.clone(), path.clone());
                    readable.push((name, text.clone()));
                }
            }
            other => {
                let path = other.map_or(declared.as_str(), |(p, _)| p.as_str());
                let why = match other {
                    Some((_, Err(why))) => why.as_str(),
                    _ => "it was not read",
                };
                out.push(
                    Diagnostic::error("SY0162", format!("could not read the file {path}: {why}"))
                        .at(files_path.index(i).as_str())
                        .hint(
                            "the files of `traefik.files` are read relative to the spec and go into Traefik's \
                             directory with switchyard's own: create it there, or take it off the list",
                        ),
                );
            }
        }
    }

    // The files as Traefik reads them (by their names in its directory), their findings at their own paths.
    let loaded = dynamic::load(&readable);
    let mut findings = loaded.diagnostics.clone();
    findings.extend(validate::check(&loaded));
    for d in &mut findings {
        if let Some(location) = &mut d.location
            && let Some(path) = paths.get(&location.file)
        {
            location.file = path.clone();
        }
    }

    let searched =
        if paths.is_empty() { None } else { Some(paths.values().map(String::as_str).collect::<Vec<_>>().join(", ")) };
    let mut references = Vec::new();
    for (app_name, app) in &spec.apps {
        for (env_name, env) in &app.environments {
            let at = KeyPath::root().key("apps").key(app_name).key("environments").key(env_name);
            for (i, middleware) in env.middlewares.iter().enumerate() {
                let d = reference(&loaded, Kind::Middleware, middleware, searched.as_deref());
                references.extend(d.map(|d| d.at(at.key("middlewares").index(i).as_str())));
            }
            if let Some(options) = env.tls.as_ref().and_then(|t| t.options.as_ref()) {
                let d = reference(&loaded, Kind::TlsOptions, options, searched.as_deref());
                references.extend(d.map(|d| d.at(at.key("tls").key("options").as_str())));
            }
        }
    }
    out.extend(references);
    if out.iter().any(|d| d.location.is_none() && d.path.is_some()) {
        SourceMap::new(source, file).attach(&mut out);
    }
    out.extend(findings);
    out
}

/// The problem with one reference (`name@provider`, its format already checked by the spec's validation), if
/// there is one. `searched` lists the files read.
fn reference(loaded: &dynamic::Loaded<'_>, kind: Kind, reference: &str, searched: Option<&str>) -> Option<Diagnostic> {
    let (name, provider) = reference.split_once('@')?;
    // What the real Traefik says (the end-to-end test `traefik_example` shows it).
    let disables = match kind {
        Kind::Middleware => {
            format!(
                "Traefik would disable every router of this environment (`middleware \"{reference}\" does not exist`)"
            )
        }
        Kind::TlsOptions => {
            format!("Traefik would disable every router of this environment (`unknown TLS options: {reference}`)")
        }
    };
    if let Kind::TlsOptions = kind
        && name == "default"
    {
        return Some(
            Diagnostic::error(
                "SY0163",
                format!("{reference:?}: `default` is what every router gets when it names no TLS options"),
            )
            .hint("leave `tls.options` out; to change the defaults, define `tls.options.default` in one of your files"),
        );
    }
    match provider {
        "file" => {}
        "internal" if matches!(kind, Kind::Middleware) && INTERNAL_MIDDLEWARES.contains(&name) => return None,
        "internal" => {
            let own = INTERNAL_MIDDLEWARES.iter().map(|m| format!("`{m}@internal`")).collect::<Vec<_>>().join(", ");
            let what = match kind {
                Kind::Middleware => format!("Traefik's own middlewares are {own}"),
                Kind::TlsOptions => "Traefik has no TLS options of its own but `default`".to_string(),
            };
            return Some(
                Diagnostic::error(
                    "SY0158",
                    format!("{} not one Traefik defines itself ({what}): {disables}", kind.subject(reference)),
                )
                .hint(format!(
                    "define it under `{}` in one of the files of `traefik.files`, and name it `{name}@file`",
                    kind.place(name)
                )),
            );
        }
        other => {
            return Some(
                Diagnostic::error(
                    "SY0158",
                    format!(
                        "{} of the provider `{other}`, which the Traefik `switchyard --docker install` runs does not \
                         have (it reads only its file provider's directory): {disables}",
                        kind.subject(reference)
                    ),
                )
                .hint(format!(
                    "define it under `{}` in one of the files of `traefik.files`, and name it `{name}@file`",
                    kind.place(name)
                )),
            );
        }
    }
    let section = kind.section();
    if loaded.origins.contains_key(&(section, name.to_string())) {
        // Defined; a definition with errors is reported at its own lines.
        return None;
    }
    let Some(searched) = searched else {
        return Some(
            Diagnostic::error(
                kind.missing_code(),
                format!("{} not defined: `traefik.files` declares no files: {disables}", kind.subject(reference)),
            )
            .hint(format!(
                "define it under `{}` in a file beside the spec and declare that file: `traefik: {{files: \
                 [{}]}}`; switchyard puts it into Traefik's directory with its own files",
                kind.place(name),
                kind.example_file()
            )),
        );
    };
    let defined = loaded.origins.range((section, String::new())..).take_while(|((s, _), _)| *s == section);
    let suggestion = did_you_mean(name, defined.map(|((_, n), _)| n.as_str()));
    let d = Diagnostic::error(
        kind.missing_code(),
        format!("{} not defined in the files of `traefik.files` ({searched}): {disables}", kind.subject(reference)),
    );
    Some(match suggestion {
        Some(s) => d.hint(format!("did you mean `{s}@file`?")),
        None => d.hint(format!("define it under `{}` in one of them", kind.place(name))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "traefik:\n  files: [conf/mw.yml, tls.toml]\napps:\n  a:\n    compose: c.yaml\n    routes: {web: {port: 80}}\n    environments:\n      dev:\n        domain: a.test\n        tls: {options: modern@file}\n        middlewares: [secure-headers@file, secure-header@file, auth@docker, dashboard_redirect@internal, x@internal]\n";
    const MW: &str = "http:\n  middlewares:\n    secure-headers:\n      headers:\n        frameDeny: true\n";
    const TLS: &str = "[tls.options.modern]\nminVersion = \"VersionTLS13\"\n";

    fn file(declared: &str, text: Result<&str, &str>) -> UserFile {
        UserFile {
            declared: declared.into(),
            path: format!("spec/{declared}"),
            text: text.map(str::to_string).map_err(str::to_string),
        }
    }

    fn run(spec: &str, files: &[UserFile]) -> Vec<Diagnostic> {
        let parsed = crate::Spec::parse(spec, "spec/s.yaml").unwrap();
        diagnose(&parsed.spec, spec, "spec/s.yaml", files)
    }

    #[test]
    fn references_are_resolved_in_the_declared_files() {
        let found = run(SPEC, &[file("conf/mw.yml", Ok(MW)), file("tls.toml", Ok(TLS))]);
        let codes: Vec<(&str, String)> = found.iter().map(|d| (&*d.code, d.path.clone().unwrap_or_default())).collect();
        assert_eq!(
            codes,
            [
                ("SY0157", "apps.a.environments.dev.middlewares[1]".to_string()),
                ("SY0158", "apps.a.environments.dev.middlewares[2]".to_string()),
                ("SY0158", "apps.a.environments.dev.middlewares[4]".to_string()),
            ],
            "{found:#?}"
        );
        let typo = &found[0];
        assert!(typo.message.contains("(spec/conf/mw.yml, spec/tls.toml)"), "{typo}");
        assert_eq!(typo.hints, ["did you mean `secure-headers@file`?"]);
        let at = typo.location.as_ref().unwrap();
        assert_eq!((at.file.as_str(), at.line), ("spec/s.yaml", 11));
        assert!(found[1].message.contains("provider `docker`"), "{}", found[1]);
        assert!(found[2].message.contains("`dashboard_redirect@internal`"), "{}", found[2]);
    }

    #[test]
    fn missing_files_and_their_own_problems_are_reported_where_they_are() {
        let broken =
            "http:\n  middlewares:\n    secure-headers:\n      headers:\n        frameDeny: true\n    empty: {}\n";
        let found = run(SPEC, &[file("conf/mw.yml", Ok(broken)), file("tls.toml", Err("No such file or directory"))]);
        let read = found.iter().find(|d| d.code == "SY0162").unwrap();
        assert_eq!(read.message, "could not read the file spec/tls.toml: No such file or directory");
        assert_eq!(read.path.as_deref(), Some("traefik.files[1]"));
        assert_eq!(read.location.as_ref().unwrap().line, 2);
        // TLS options defined in no readable file.
        assert!(found.iter().any(|d| d.code == "SY0159"), "{found:#?}");
        // The file's own error, at its own line.
        let own = found.iter().find(|d| d.is_error() && d.location.as_ref().is_some_and(|l| l.line == 6));
        let own = own.unwrap_or_else(|| panic!("{found:#?}"));
        assert_eq!(own.location.as_ref().unwrap().file, "spec/conf/mw.yml", "{own}");
    }

    #[test]
    fn the_example_names_only_what_its_files_define() {
        let files: Vec<UserFile> = crate::EXAMPLE_FILES.iter().map(|(name, text)| file(name, Ok(text))).collect();
        let parsed = crate::Spec::parse(crate::EXAMPLE_SPEC, "switchyard.yaml").unwrap();
        let declared: Vec<&str> = crate::EXAMPLE_FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(parsed.spec.traefik.files, declared);
        let found = diagnose(&parsed.spec, crate::EXAMPLE_SPEC, "switchyard.yaml", &files);
        assert!(found.iter().all(|d| d.severity == crate::Severity::Info), "{found:#?}");
    }

    #[test]
    fn without_files_every_file_reference_is_missing_and_default_options_are_refused() {
        let spec = "apps:\n  a:\n    compose: c.yaml\n    routes: {web: {port: 80}}\n    environments:\n      dev:\n        domain: a.test\n        tls: {options: default@file}\n        middlewares: [m@file]\n";
        let found = run(spec, &[]);
        let codes: Vec<&str> = found.iter().map(|d| &*d.code).collect();
        assert_eq!(codes, ["SY0157", "SY0163"], "{found:#?}");
        assert!(found[0].message.contains("declares no files"), "{}", found[0]);
        assert!(found[0].hints[0].contains("traefik: {files: [middlewares.yml]}"), "{}", found[0]);
        // Without references, nothing to say.
        assert!(run("apps:\n  a:\n    compose: c.yaml\n    routes: {web: {port: 80}}\n    environments:\n      dev: {domain: a.test}\n", &[]).is_empty());
    }
}
