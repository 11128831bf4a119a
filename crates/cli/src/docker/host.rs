//! switchyard's files on the Docker host, inside the proxy (Traefik) container's data volume, so every
//! machine that runs the CLI sees the same truth:
//!
//! ```text
//! /switchyard/dynamic/   Traefik's file-provider directory (top level only)
//! /switchyard/state/     <app>_<env>.json
//! /switchyard/locks/     <app>_<env>/holder  (mkdir is the atomic test-and-set)
//! /switchyard/audit/     <app>_<env>.jsonl   one line per change: who, what, when, before and after
//! /switchyard/staging/   files on their way into place
//! /switchyard/tls/       the default certificate (see switchyard_model::proxy)
//! /switchyard/acme/      the certificate resolvers' storage
//! ```
//!
//! Files are uploaded into `staging/` and renamed into place by one `sh` command, so Traefik never reads a
//! half-written file and sees one event per file. Values reach the shell only as positional arguments or
//! environment variables, never inside the script text.

use std::collections::BTreeMap;
use std::io::Read as _;

use anyhow::{Context as _, Result, anyhow, bail};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use futures_util::{StreamExt, TryStreamExt};

pub(crate) const ROOT: &str = switchyard_model::proxy::ROOT;

/// Where a file for `<dir>/<name>` (relative to [`ROOT`]) is uploaded before it is renamed into place:
/// `staging/`, on the same file system as Traefik's directory but not watched by it, so the rename is the only
/// event Traefik sees.
pub(crate) fn staged(dir: &str, name: &str) -> String {
    format!("staging/{dir}.{name}.tmp")
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub(crate) struct ExecOutput {
    pub(crate) code: i64,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// The bytes of `stdout`, as the command wrote them (`stdout` replaces what is not UTF-8).
    pub(crate) raw: Vec<u8>,
}

/// The proxy container, where switchyard keeps its files.
#[derive(Debug, Clone)]
pub(crate) struct ProxyHost {
    pub(crate) docker: Docker,
    pub(crate) container: String,
}

impl ProxyHost {
    /// Runs `argv` in the proxy container (three requests: create, start, inspect for the exit code).
    pub(crate) async fn exec(&self, argv: &[&str], env: &[(&str, &str)]) -> Result<ExecOutput> {
        self.exec_inner(argv, env, true).await
    }

    async fn exec_inner(&self, argv: &[&str], env: &[(&str, &str)], inspect: bool) -> Result<ExecOutput> {
        self.exec_with_input(argv, env, inspect, None).await
    }

    async fn exec_with_input(
        &self,
        argv: &[&str],
        env: &[(&str, &str)],
        inspect: bool,
        input: Option<&[u8]>,
    ) -> Result<ExecOutput> {
        let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let created = self
            .docker
            .create_exec(
                &self.container,
                CreateExecOptions {
                    cmd: Some(argv.iter().map(|s| s.to_string()).collect()),
                    env: Some(env),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    attach_stdin: Some(input.is_some()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| match e {
                bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => anyhow!(
                    "there is no proxy container {:?} on this Docker host; run `switchyard --docker install` first",
                    self.container
                ),
                bollard::errors::Error::DockerResponseServerError { status_code: 409, .. } => anyhow!(
                    "the proxy container {:?} is not running; `docker start {}` or `switchyard --docker install`",
                    self.container,
                    self.container
                ),
                e => anyhow!(e).context(format!("could not run a command in the proxy container {}", self.container)),
            })?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        if let StartExecResults::Attached { mut output, input: mut stdin } =
            self.docker.start_exec(&created.id, None).await?
        {
            if let Some(data) = input {
                use tokio::io::AsyncWriteExt;
                stdin.write_all(data).await.context("could not send data to the proxy container")?;
                stdin.shutdown().await.context("could not send data to the proxy container")?;
            }
            while let Some(chunk) = output.next().await {
                match chunk? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        stdout.extend_from_slice(&message)
                    }
                    LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                    LogOutput::StdIn { .. } => {}
                }
            }
        }
        let code = if inspect { self.docker.inspect_exec(&created.id).await?.exit_code.unwrap_or(-1) } else { 0 };
        Ok(ExecOutput {
            code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            raw: stdout,
        })
    }

    /// Runs a shell script with positional arguments in two requests: the script runs in a subshell and the
    /// wrapper prints its exit status after a separator, so no third request asks Docker for it.
    pub(crate) async fn script(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Result<ExecOutput> {
        self.run_script(script, args, env, None).await
    }

    /// Like [`ProxyHost::script`], with `input` on the script's standard input: files travel with the command
    /// (a tar archive for `tar -x`) instead of in a separate, slower archive upload.
    pub(crate) async fn script_with_input(
        &self,
        script: &str,
        args: &[&str],
        env: &[(&str, &str)],
        input: &[u8],
    ) -> Result<ExecOutput> {
        self.run_script(script, args, env, Some(input)).await
    }

    async fn run_script(
        &self,
        script: &str,
        args: &[&str],
        env: &[(&str, &str)],
        input: Option<&[u8]>,
    ) -> Result<ExecOutput> {
        let wrapped = format!("(\n{script}\n)\nprintf '\\037%s' \"$?\"");
        let mut argv = vec!["sh", "-c", wrapped.as_str(), "switchyard"];
        argv.extend_from_slice(args);
        let mut out = self.exec_with_input(&argv, env, false, input).await?;
        let (body, code) = out.stdout.rsplit_once('\u{1f}').ok_or_else(|| {
            anyhow!("a command in {} ended without an exit status: {}", self.container, out.stderr.trim())
        })?;
        out.code = code.trim().parse().unwrap_or(-1);
        out.stdout = body.to_string();
        if let Some(end) = out.raw.iter().rposition(|b| *b == 0x1f) {
            out.raw.truncate(end);
        }
        Ok(out)
    }

    /// Runs a shell script with positional arguments; fails with its stderr when it exits non-zero.
    pub(crate) async fn sh(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Result<ExecOutput> {
        let out = self.script(script, args, env).await?;
        if out.code != 0 {
            bail!(
                "`{}` failed in {} (exit {}): {}",
                script.lines().next().unwrap_or(""),
                self.container,
                out.code,
                out.stderr.trim()
            );
        }
        Ok(out)
    }
}

/// A tar archive of `files` (paths relative to /switchyard).
pub(crate) fn archive(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_cksum();
            builder.append_data(&mut header, path, data.as_slice())?;
        }
        Ok(builder.into_inner()?)
    }
}

impl ProxyHost {
    /// Every regular file directly in `dir` (relative to /switchyard): name -> contents. A missing directory
    /// gives an empty map.
    pub(crate) async fn read_dir(&self, dir: &str) -> Result<BTreeMap<String, Vec<u8>>> {
        let path = format!("{ROOT}/{dir}");
        let options = DownloadFromContainerOptionsBuilder::default().path(&path).build();
        let bytes: Vec<u8> = match self
            .docker
            .download_from_container(&self.container, Some(options))
            .map_ok(|b| b.to_vec())
            .try_concat()
            .await
        {
            Ok(b) => b,
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                return Ok(BTreeMap::new());
            }
            Err(e) => return Err(e).with_context(|| format!("could not read {}:{path}", self.container)),
        };
        let mut files = BTreeMap::new();
        let mut archive = tar::Archive::new(bytes.as_slice());
        for entry in archive.entries()? {
            let mut entry = entry?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let entry_path = entry.path()?.into_owned();
            // Entries are `<dir>/<name>`; only direct children count.
            let parts: Vec<_> = entry_path.components().collect();
            if parts.len() != 2 {
                continue;
            }
            let name =
                entry_path.file_name().map(|n| n.to_string_lossy().into_owned()).ok_or_else(|| anyhow!("bad entry"))?;
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            files.insert(name, data);
        }
        Ok(files)
    }
}
