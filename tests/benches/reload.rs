//! Where the time goes between writing a routing change and requests moving, measured on the real Traefik run
//! directly on 127.0.0.1 (no Docker): two backends answer `a` and `b`; each round renames a file that switches
//! the router from one to the other, and measures from the rename until requests are answered by the other
//! backend. The set-ups add, one at a time, the changes switchyard makes:
//!
//! 1. as switchyard wrote before: the temporary file in the watched directory, then renamed; Traefik's default
//!    provider throttle (2 s) and no default certificate; changes 2.5 s apart;
//! 2. the temporary file staged outside the watched directory (the rename is the only event);
//! 3. the same with changes 0.5 s apart (closer than the throttle);
//! 4. and a provider throttle of 10 ms instead of 2 s;
//! 5. and a default certificate of switchyard's (no RSA key generated on every change): what `install` sets up.
//!
//! `cargo bench -p switchyard-e2e --bench reload` measures 30 rounds per set-up; under `cargo test` each
//! set-up runs three rounds to prove it works.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use switchyard_e2e::traefik::{self, LocalTraefik};

/// A backend that answers every request with `body`, on a free port; it serves until the process ends.
fn backend(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                loop {
                    let Ok(n) = stream.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                        if stream.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

fn config(port: u16) -> String {
    format!(
        "http:\n  routers:\n    r:\n      rule: Host(`x.test`)\n      entryPoints: [web]\n      service: s\n  \
         services:\n    s:\n      loadBalancer:\n        servers:\n        - url: http://127.0.0.1:{port}\n"
    )
}

/// Writes `text` as `dir/routes.yml` through a temporary file in `staging`, flushed, then renamed.
fn write_renamed(staging: &Path, dir: &Path, text: &str) {
    let tmp = staging.join(".routes.yml.tmp");
    let mut f = std::fs::File::create(&tmp).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.sync_all().unwrap();
    std::fs::rename(&tmp, dir.join("routes.yml")).unwrap();
}

fn answer(port: u16) -> Option<String> {
    traefik::get(port, "x.test", "/", &[]).ok().filter(|r| r.status == 200).map(|r| r.body)
}

struct Setup {
    name: &'static str,
    /// Time between changes.
    apart: Duration,
    staged_outside: bool,
    throttle: Option<&'static str>,
    default_certificate: bool,
}

fn measure(setup: &Setup, rounds: usize, backends: (u16, u16)) -> Vec<Duration> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dynamic");
    let outside = tmp.path().join("staging");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let staging = if setup.staged_outside { outside.as_path() } else { dir.as_path() };
    let mut args = Vec::new();
    if let Some(t) = setup.throttle {
        args.push(format!("--providers.providersThrottleDuration={t}"));
    }
    if setup.default_certificate {
        let (cert, key) = (tmp.path().join("default.crt"), tmp.path().join("default.key"));
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
            .args(["-days", "30", "-subj", "/CN=switchyard default certificate", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(made.status.success());
        let text = switchyard_model::proxy::default_certificate_config()
            .replace(switchyard_model::proxy::DEFAULT_CERTIFICATE, cert.to_str().unwrap())
            .replace(switchyard_model::proxy::DEFAULT_CERTIFICATE_KEY, key.to_str().unwrap());
        std::fs::write(dir.join(switchyard_model::proxy::DEFAULT_CERTIFICATE_FILE), text).unwrap();
    }
    write_renamed(staging, &dir, &config(backends.0));
    let t = LocalTraefik::start(&dir, &["web"], &args, &tmp.path().join("traefik.log"));
    let port = t.port("web");
    let start = Instant::now();
    while answer(port).as_deref() != Some("a") {
        assert!(start.elapsed() < Duration::from_secs(30), "Traefik never served the first file");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut times = Vec::new();
    for round in 0..rounds {
        std::thread::sleep(setup.apart);
        let (to_port, to) = if round % 2 == 0 { (backends.1, "b") } else { (backends.0, "a") };
        let start = Instant::now();
        write_renamed(staging, &dir, &config(to_port));
        while answer(port).as_deref() != Some(to) {
            assert!(start.elapsed() < Duration::from_secs(30), "{}: requests never moved", setup.name);
        }
        times.push(start.elapsed());
    }
    times
}

fn quantile(xs: &[Duration], q: f64) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort();
    let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    xs[rank - 1].as_secs_f64() * 1000.0
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let rounds = if measuring { 30 } else { 3 };
    let backends = (backend("a"), backend("b"));
    let (slow, fast) = (Duration::from_millis(2500), Duration::from_millis(500));
    let setups = [
        Setup {
            name: "1. temporary file in the watched directory, 2.5 s apart",
            apart: slow,
            staged_outside: false,
            throttle: None,
            default_certificate: false,
        },
        Setup {
            name: "2. staged outside the watched directory, 2.5 s apart",
            apart: slow,
            staged_outside: true,
            throttle: None,
            default_certificate: false,
        },
        Setup {
            name: "3. staged outside, 0.5 s apart",
            apart: fast,
            staged_outside: true,
            throttle: None,
            default_certificate: false,
        },
        Setup {
            name: "4. and a 10 ms provider throttle",
            apart: fast,
            staged_outside: true,
            throttle: Some("10ms"),
            default_certificate: false,
        },
        Setup {
            name: "5. and switchyard's default certificate (install's set-up)",
            apart: fast,
            staged_outside: true,
            throttle: Some(switchyard_model::proxy::PROVIDERS_THROTTLE),
            default_certificate: true,
        },
    ];
    println!("from the rename until requests are answered by the other backend, {rounds} rounds each:");
    for setup in &setups {
        let times = measure(setup, rounds, backends);
        println!(
            "{:<62} median {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms",
            setup.name,
            quantile(&times, 0.5),
            quantile(&times, 0.95),
            quantile(&times, 1.0)
        );
    }
}
