//! Headless Chromium for the playground's tests: Debian's `chromium` driven through `chromedriver` with
//! fantoccini, against the page built by the same code as `cargo xtask playground-build` and served by the
//! same server as `cargo xtask playground`.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

use crate::root;

pub use switchyard_playground::Server;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// The built playground (`target/playground`), built once per test process.
pub fn playground_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| switchyard_playground::build(&root()).unwrap_or_else(|e| panic!("the playground build: {e}")))
        .clone()
}

/// Serves the built playground on a free port of 127.0.0.1.
pub fn serve() -> Server {
    Server::start(&playground_dir(), 0).unwrap()
}

/// A Chromium session; its chromedriver is killed when dropped.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Whether the browser tests can run: in CI (`CI` set) a missing chromedriver fails the test; elsewhere the
/// test is skipped with the reason.
pub fn available() -> bool {
    if std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CHROMEDRIVER} or {CHROMIUM} is missing: `cargo xtask ci` installs Debian's chromium and chromium-driver"
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipped: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver; CI installs them)");
    }
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile. On a loaded machine chromedriver now
    /// and then drops the first session request; that is retried (three attempts, each with a new driver).
    pub async fn start() -> Browser {
        let mut last = String::new();
        for _ in 0..3 {
            match Browser::try_start().await {
                Ok(browser) => return browser,
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("could not start Chromium through chromedriver: {last}");
    }

    async fn try_start() -> Result<Browser, String> {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match client {
            Ok(client) => Ok(Browser { client, driver, _profile: profile }),
            Err(e) => {
                let mut driver = driver;
                let _ = driver.kill();
                let _ = driver.wait();
                Err(format!("{e}"))
            }
        }
    }

    /// Opens `url` and waits until the playground shows its first result.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self.js("return document.body.dataset.ready === 'true'").await;
            if ready == json!(true) {
                return;
            }
            let errors = self.js("return window.playgroundErrors || []").await;
            assert!(errors.as_array().is_none_or(Vec::is_empty), "the page failed to start: {errors}");
            assert!(Instant::now() < deadline, "the playground did not become ready; log: {:?}", self.log().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs a script (a function body) in the page.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Runs an async function body in the page; its return value is the answer.
    pub async fn js_async(&self, body: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1];\n(async () => {{ {body} }})().then(done, (e) => done({{ error: String(e && e.stack || e) }}));"
        );
        let value = self.client.execute_async(&script, Vec::new()).await.unwrap_or_else(|e| panic!("{body}: {e}"));
        if let Some(error) = value.get("error") {
            panic!("{body}: {error}");
        }
        value
    }

    /// Waits until the page shows the latest inputs.
    /// Types `keys` into the focused element as a keyboard does (key down, key up), where its caret is: unlike
    /// an element's send-keys, which chromedriver may start by moving the caret to the end of the text.
    pub async fn type_keys(&self, keys: &str) {
        use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
        let mut actions = KeyActions::new("keyboard".into());
        for value in keys.chars() {
            actions = actions.then(KeyAction::Down { value }).then(KeyAction::Up { value });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    pub async fn idle(&self) {
        self.js_async("await window.playground.idle(); return true;").await;
    }

    /// The text of an element (`textContent`, so hidden tabs count too).
    pub async fn text(&self, css: &str) -> String {
        let script = format!("return document.querySelector({}).textContent", json!(css));
        self.js(&script).await.as_str().unwrap_or_default().to_string()
    }

    /// The browser's console log (chromedriver's `goog:loggingPrefs`), as `LEVEL message` lines.
    pub async fn log(&self) -> Vec<String> {
        let entries = self.client.issue_cmd(BrowserLog).await.unwrap_or(Value::Null);
        entries
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| format!("{} {}", e["level"].as_str().unwrap_or("?"), e["message"].as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails on any error the page collected (console.error, uncaught errors, rejections, CSP violations) or
    /// the browser logged (a failed load, say).
    pub async fn assert_no_errors(&self) {
        let errors = self.js("return window.playgroundErrors").await;
        assert_eq!(errors, json!([]), "the page reported errors");
        let severe: Vec<String> = self.log().await.into_iter().filter(|l| l.starts_with("SEVERE")).collect();
        assert!(severe.is_empty(), "the browser logged errors: {severe:#?}");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// chromedriver's log endpoint (not in the W3C protocol, so not in fantoccini).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }
    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "type": "browser" }).to_string()))
    }
}
