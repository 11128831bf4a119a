//! Reaching the engine over TCP, chosen by `--context` and by `DOCKER_HOST`, the way the docker CLI chooses.
//! The test forwards a loopback TCP port to the engine's socket itself, so it does not depend on how dockerd
//! was started; the bytes still go through bollard's HTTP transport to the real engine.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::io::copy;
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::thread;

use switchyard_e2e::docker::{PROXY_IMAGE, Site};

/// Forwards connections on a loopback port to the Docker socket; returns the port.
fn forward_to_docker() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let Ok(unix) = UnixStream::connect("/var/run/docker.sock") else { continue };
            let (mut tcp_r, mut unix_w) = (tcp.try_clone().unwrap(), unix.try_clone().unwrap());
            thread::spawn(move || {
                let _ = copy(&mut tcp_r, &mut unix_w);
                let _ = unix_w.shutdown(std::net::Shutdown::Write);
            });
            let (mut unix_r, mut tcp_w): (UnixStream, TcpStream) = (unix, tcp);
            thread::spawn(move || {
                let _ = copy(&mut unix_r, &mut tcp_w);
                let _ = tcp_w.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

/// A Docker config directory with a context named `name` for `host`, laid out as the docker CLI does.
fn docker_config_with_context(name: &str, host: &str) -> tempfile::TempDir {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let digest: String = sha2::Sha256::digest(name.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let meta = dir.path().join("contexts/meta").join(digest);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(
            r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        ),
    )
    .unwrap();
    dir
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_context_and_docker_host_reach_the_engine_over_tcp() {
    let site = Site::new("sye2e-tcp");
    let port = forward_to_docker();
    let host = format!("tcp://127.0.0.1:{port}");
    let config = docker_config_with_context("e2e-tcp", &host);

    let out = site
        .command(&["--context", "e2e-tcp", "install", "--image", PROXY_IMAGE, "--no-publish"])
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains(&format!("Docker at {host} (from context \"e2e-tcp\" (--context))")), "{t}");

    for args in [&["create"][..], &["deploy", "v1"][..], &["promote", "v1"][..]] {
        let out = site.command(args).env("DOCKER_HOST", &host).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    assert_eq!(site.state()["live"], "blue");

    // An unknown context is a clear error that names where contexts come from.
    let out = site.command(&["--context", "nope", "status"]).env("DOCKER_CONFIG", config.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no Docker context named \"nope\""), "{}", text(&out));
}
