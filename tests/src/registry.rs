//! A container registry of the test's own (the Docker Registry HTTP API v2, the part `docker pull` uses), on
//! loopback: no image can be pulled from the Internet here, and pulling is what is tested. Docker treats
//! registries on 127.0.0.0/8 as insecure and falls back to plain HTTP for them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use sha2::{Digest, Sha256};

#[derive(Debug, Default)]
struct Store {
    /// (repository, tag) -> manifest JSON.
    manifests: BTreeMap<(String, String), Vec<u8>>,
    /// digest -> blob.
    blobs: BTreeMap<String, Vec<u8>>,
}

/// A running registry; it stops serving when the test process ends.
#[derive(Debug)]
pub struct Registry {
    pub port: u16,
    store: Arc<Mutex<Store>>,
}

fn digest(data: &[u8]) -> String {
    let hash = Sha256::digest(data);
    format!("sha256:{}", hash.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip").arg("-c").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = data.to_vec();
    let writer = thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    out.stdout
}

impl Registry {
    pub fn start() -> Registry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let store = Arc::new(Mutex::new(Store::default()));
        let shared = Arc::clone(&store);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = Arc::clone(&shared);
                thread::spawn(move || serve(stream, &store));
            }
        });
        Registry { port, store }
    }

    /// Publishes `repository:tag`: one layer (`rootfs`, a tar) and a config running `cmd`. Returns the
    /// reference to pull.
    pub fn push(&self, repository: &str, tag: &str, rootfs: &[u8], cmd: &[&str]) -> String {
        let layer = gzip(rootfs);
        let config = serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": { "Cmd": cmd },
            "rootfs": { "type": "layers", "diff_ids": [digest(rootfs)] },
        })
        .to_string()
        .into_bytes();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": config.len(),
                "digest": digest(&config),
            },
            "layers": [{
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": layer.len(),
                "digest": digest(&layer),
            }],
        })
        .to_string()
        .into_bytes();
        let mut store = self.store.lock().unwrap();
        store.blobs.insert(digest(&config), config);
        store.blobs.insert(digest(&layer), layer);
        store.manifests.insert((repository.to_string(), tag.to_string()), manifest);
        self.reference(repository, tag)
    }

    pub fn reference(&self, repository: &str, tag: &str) -> String {
        format!("127.0.0.1:{}/{repository}:{tag}", self.port)
    }
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8], head: bool) {
    let mut text = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    let _ = stream.write_all(text.as_bytes());
    if !head {
        let _ = stream.write_all(body);
    }
}

fn serve(mut stream: TcpStream, store: &Mutex<Store>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    // A TLS handshake (Docker tries HTTPS first) is not a request line: close, and Docker falls back to HTTP.
    if reader.read_line(&mut request_line).is_err() || !request_line.ends_with("HTTP/1.1\r\n") {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let head = method == "HEAD";
    let api = ("Docker-Distribution-API-Version", "registry/2.0".to_string());
    if path == "/v2/" {
        return respond(&mut stream, "200 OK", &[api], b"{}", head);
    }
    let store = store.lock().unwrap();
    let rest = path.strip_prefix("/v2/").unwrap_or("");
    if let Some((repository, reference)) = rest.rsplit_once("/manifests/") {
        let manifest = store
            .manifests
            .get(&(repository.to_string(), reference.to_string()))
            .cloned()
            .or_else(|| store.manifests.values().find(|m| digest(m) == reference).cloned());
        if let Some(m) = manifest {
            let headers = [
                api,
                ("Content-Type", "application/vnd.docker.distribution.manifest.v2+json".to_string()),
                ("Docker-Content-Digest", digest(&m)),
            ];
            return respond(&mut stream, "200 OK", &headers, &m, head);
        }
    } else if let Some((_, blob)) = rest.rsplit_once("/blobs/")
        && let Some(data) = store.blobs.get(blob)
    {
        let headers = [
            api,
            ("Content-Type", "application/octet-stream".to_string()),
            ("Docker-Content-Digest", blob.to_string()),
        ];
        return respond(&mut stream, "200 OK", &headers, data, head);
    }
    let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
    respond(&mut stream, "404 Not Found", &[api, ("Content-Type", "application/json".to_string())], body, head);
}
