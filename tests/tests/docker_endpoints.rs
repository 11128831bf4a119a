//! Reaching the engine over TCP (plain and with TLS client certificates) and over ssh, chosen by `--context` and
//! by `DOCKER_HOST`, the way the docker CLI chooses. TLS is served by stunnel in front of the engine's socket
//! (verifying client certificates, as `dockerd --tlsverify` does) and ssh by a private sshd on loopback.
//! The test forwards a loopback TCP port to the engine's socket itself, so it does not depend on how dockerd
//! was started; the bytes still go through bollard's HTTP transport to the real engine.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::io::copy;
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::thread;

use switchyard_e2e::docker::Site;

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
        .command(&["--context", "e2e-tcp", "install", "--no-publish"])
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

/// A child process killed when the test ends, however it ends.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nothing listens on (yet).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

fn sh(dir: &std::path::Path, script: &str) {
    let out = std::process::Command::new("sh").arg("-ec").arg(script).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{script}: {}", text(&out));
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, named as `dockerd --tlsverify` and the
/// docker CLI use them (`ca.pem`, `cert.pem`, `key.pem` for the client); and in `rogue/` a client certificate
/// from another CA.
fn certificates(dir: &std::path::Path) {
    sh(
        dir,
        r#"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $ec -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=e2e-ca 2>/dev/null
openssl req $ec -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
openssl req $ec -keyout key.pem -out client.csr -subj /CN=e2e-client 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out cert.pem -days 2 -extfile client.ext 2>/dev/null
mkdir -p rogue
openssl req -x509 $ec -keyout rogue/ca-key.pem -out rogue/rogue-ca.pem -days 2 -subj /CN=rogue-ca 2>/dev/null
openssl req $ec -keyout rogue/key.pem -out rogue/client.csr -subj /CN=rogue 2>/dev/null
openssl x509 -req -in rogue/client.csr -CA rogue/rogue-ca.pem -CAkey rogue/ca-key.pem -CAcreateserial -out rogue/cert.pem -days 2 -extfile client.ext 2>/dev/null
cp ca.pem rogue/ca.pem
"#,
    );
}

#[test]
fn docker_host_with_tls_verify_reaches_the_engine_and_an_untrusted_certificate_is_refused() {
    let site = Site::new("sye2e-tls");
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    // A TLS endpoint in front of the engine's socket that requires a client certificate from our CA, as
    // `dockerd --tlsverify` does. (stunnel rather than socat: socat's OpenSSL server fails rustls's session
    // resumption with "session id context uninitialized", which Go's TLS server, dockerd's, does not.)
    let port = free_port();
    let c = certs.path().display();
    std::fs::write(
        certs.path().join("stunnel.conf"),
        format!(
            "foreground = yes\npid =\n[docker]\naccept = 127.0.0.1:{port}\nconnect = /var/run/docker.sock\n\
             cert = {c}/server.pem\nkey = {c}/server-key.pem\nCAfile = {c}/ca.pem\nverifyChain = yes\n"
        ),
    )
    .unwrap();
    let _tls = Daemon(
        std::process::Command::new("stunnel")
            .arg(certs.path().join("stunnel.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("stunnel runs (the README's test command installs stunnel4)"),
    );
    wait_for_port(port);
    let host = format!("tcp://127.0.0.1:{port}");
    let tls = |c: &mut std::process::Command, dir: &std::path::Path| {
        c.env("DOCKER_HOST", &host).env("DOCKER_TLS_VERIFY", "1").env("DOCKER_CERT_PATH", dir);
    };

    let mut install = site.command(&["install", "--no-publish"]);
    tls(&mut install, certs.path());
    let out = install.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("Docker at {host} (from DOCKER_HOST)")), "{}", text(&out));
    for args in [&["create"][..], &["deploy", "v1"][..], &["promote", "v1"][..], &["status"][..]] {
        let mut c = site.command(args);
        tls(&mut c, certs.path());
        let out = c.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    assert_eq!(site.state()["live"], "blue");

    // A client certificate the endpoint does not trust: refused, exit 2, nothing changed.
    let mut c = site.command_on("rogue", &["deploy", "v2"]);
    tls(&mut c, &certs.path().join("rogue"));
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(site.state()["deployments"].as_array().unwrap().len(), 1, "nothing changed");
    // Plain HTTP to a TLS endpoint: a clear failure, not a hang.
    let out = site.command_on("plain", &["status"]).env("DOCKER_HOST", &host).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn an_ssh_endpoint_reaches_the_engine_through_docker_system_dial_stdio() {
    let site = Site::new("sye2e-ssh");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    let dd = d.display();
    std::fs::write(
        d.join("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dd}/host_key\nAuthorizedKeysFile {dd}/authorized_keys\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             StrictModes no\nUsePAM no\nPidFile {dd}/sshd.pid\n"
        ),
    )
    .unwrap();
    // The client's settings, without touching the user's ~/.ssh: the `ssh` that bollard starts is a wrapper.
    std::fs::write(
        d.join("ssh_config"),
        format!(
            "Host e2e-docker\n  HostName 127.0.0.1\n  Port {port}\n  IdentityFile {dd}/id_ed25519\n  \
             IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(d.join("bin")).unwrap();
    std::fs::write(d.join("bin/ssh"), format!("#!/bin/sh\nexec /usr/bin/ssh -F {dd}/ssh_config \"$@\"\n")).unwrap();
    sh(
        d,
        "ssh-keygen -q -t ed25519 -N '' -f host_key\nssh-keygen -q -t ed25519 -N '' -f id_ed25519\n\
         cp id_ed25519.pub authorized_keys\nchmod +x bin/ssh\nmkdir -p /run/sshd",
    );
    let _sshd = Daemon(
        std::process::Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("sshd runs (the README's test command installs openssh-server)"),
    );
    wait_for_port(port);
    // bollard hands `host:port` to ssh as a host name, so the port lives in the ssh config, as the error for
    // an address with a port says.
    let with_port = format!("ssh://root@127.0.0.1:{port}");
    let out = site.command(&["status"]).env("DOCKER_HOST", &with_port).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("takes no port in the address") && text(&out).contains(&format!("Port {port}")));
    let host = "ssh://root@e2e-docker".to_string();
    let path = format!("{}:{}", d.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let run = |args: &[&str]| {
        let out = site.command(args).env("DOCKER_HOST", &host).env("PATH", &path).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        text(&out)
    };
    let t = run(&["install", "--no-publish"]);
    assert!(t.contains(&format!("Docker at {host} (from DOCKER_HOST)")), "{t}");
    run(&["create"]);
    run(&["deploy", "v1"]);
    run(&["promote", "v1"]);
    assert_eq!(site.state()["live"], "blue");
    let t = run(&["status"]);
    assert!(t.contains("network present, Traefik connected"), "{t}");
}
