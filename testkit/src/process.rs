//! Test support for black-box tests: the real `allomedia` binary as a child process — on a
//! port the OS picks, with a log file of its own — the mails its console transport logs, and
//! the CLI that makes managers. Children are killed when their handle is dropped.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

/// The `JWT_SECRET` every process of a test shares: two instances (or a restarted one) must
/// derive the same signing and digest keys to accept each other's tokens and codes.
pub const SHARED_SECRET: &str = "a secret shared by the processes of one test, 32+ bytes";

/// How long a child may take to listen and answer `/health/ready` (a cold debug binary on a
/// busy two-core machine needs well under a second; this bounds the wait, it times nothing).
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How long a mail may take to appear in the log after the request that sends it.
const MAIL_DEADLINE: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(20);

/// The `allomedia` binary under test and the scratch directory its children run in. Cargo
/// tells both to integration-test crates alone (`CARGO_BIN_EXE_allomedia`,
/// `CARGO_TARGET_TMPDIR`), not to this library, so each test crate names them once:
/// `const ALLOMEDIA: Binary = Binary { path: env!("CARGO_BIN_EXE_allomedia"), scratch_dir:
/// env!("CARGO_TARGET_TMPDIR") };`.
pub struct Binary {
    pub path: &'static str,
    /// The children's working directory: a `.env` in the developer's must not leak into a test.
    pub scratch_dir: &'static str,
}

/// Makes a manager the way operators do: the real binary's `create-manager`, password on
/// standard input.
pub fn create_manager(
    binary: &Binary,
    database_url: &str,
    name: &str,
    email: &str,
    password: &str,
) {
    let mut child = Command::new(binary.path)
        .args(["create-manager", "--name", name, "--email", email])
        .arg("--password-stdin")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        // A `.env` in the working directory must not leak into the test.
        .current_dir(binary.scratch_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting allomedia create-manager");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "create-manager failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One mail as the console transport logged it.
#[derive(Debug, Clone)]
pub struct LoggedMail {
    pub kind: String,
    pub to: String,
    /// The plain-text body.
    pub text: String,
}

impl LoggedMail {
    /// The 6-digit code of a login-code mail: it stands on a line of its own.
    pub fn code(&self) -> String {
        self.text
            .lines()
            .map(str::trim)
            .find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no 6-digit code in the mail: {}", self.text))
            .to_owned()
    }

    /// The `token` parameter of the link in the mail.
    pub fn link_token(&self) -> String {
        let link = self
            .text
            .split_whitespace()
            .find(|word| word.contains("token="))
            .unwrap_or_else(|| panic!("no link with a token in the mail: {}", self.text));
        url::Url::parse(link)
            .unwrap()
            .query_pairs()
            .find(|(name, _)| name == "token")
            .map(|(_, value)| value.into_owned())
            .unwrap()
    }
}

/// An answer read whole: the status, and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    pub www_authenticate: Option<String>,
    pub body: Value,
}

impl Answer {
    /// The problem's `code`, or "" when the body is not a problem.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// A running `allomedia serve`.
pub struct Server {
    /// Behind a lock so that a test can kill a server its request tasks still share.
    child: Mutex<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: PathBuf,
    /// Logs of other servers on the same store: they share the mail outbox, so a mail this
    /// server queued may be delivered (logged) by any of them.
    mailbox_logs: Vec<PathBuf>,
    pub http: reqwest::Client,
}

impl Server {
    /// Starts `allomedia serve` on `database_url` with console mail and JSON logs into
    /// `dir/NAME.log`, on a port the OS picks, and waits until `/health/ready` answers 200.
    pub async fn start(binary: &Binary, database_url: &str, dir: &Path, name: &str) -> Server {
        Self::start_with(binary, database_url, dir, name, &[]).await
    }

    /// `start`, with `settings` (name, value) set after the defaults (`MAIL_URL` for one).
    pub async fn start_with(
        binary: &Binary,
        database_url: &str,
        dir: &Path,
        name: &str,
        settings: &[(&str, &str)],
    ) -> Server {
        let log = dir.join(format!("{name}.log"));
        let stdout = File::create(&log).unwrap();
        let stderr = stdout.try_clone().unwrap();
        let child = Command::new(binary.path)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            // Port 0: the OS picks a free port, which the server logs; no race for a port.
            .env("HTTP_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", database_url)
            .env("MAIL_URL", "console://")
            .env("APP_ENV", "dev")
            .env("JWT_SECRET", SHARED_SECRET)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            // The per-IP limiter is not what these tests look at: every request comes from
            // 127.0.0.1, and the per-account rules must be the only ones that answer.
            .env("AUTH_RATE_LIMIT_PER_MINUTE", "1000000")
            .envs(settings.iter().copied())
            .current_dir(binary.scratch_dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("starting allomedia serve");
        let http = reqwest::Client::builder()
            // Bounds every request; an answer normally comes in milliseconds.
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut server = Server {
            child: Mutex::new(child),
            base: String::new(),
            log,
            mailbox_logs: Vec::new(),
            http,
        };
        server.base = format!("http://{}", server.wait_for_address().await);
        server.wait_until_ready().await;
        server
    }

    /// The whole log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_events(&self) -> Vec<Value> {
        self.log_text()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .collect()
    }

    /// Panics with the log if the child has ended (it should not, before `kill`).
    fn assert_running(&self) {
        let status = self.child.lock().unwrap().try_wait().unwrap();
        if let Some(status) = status {
            panic!("the server exited ({status}):\n{}", self.log_text());
        }
    }

    async fn wait_for_address(&mut self) -> String {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let address = self.log_events().into_iter().find_map(|event| {
                let listening = event["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("allomedia listening"));
                listening.then(|| event["address"].as_str().map(str::to_owned))?
            });
            if let Some(address) = address {
                return address;
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "the server did not listen in time:\n{}",
                self.log_text()
            );
            sleep(POLL_EVERY).await;
        }
    }

    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let ready = self
                .http
                .get(format!("{}/health/ready", self.base))
                .send()
                .await
                .is_ok_and(|response| response.status() == StatusCode::OK);
            if ready {
                return;
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "the server was not ready in time:\n{}",
                self.log_text()
            );
            sleep(POLL_EVERY).await;
        }
    }

    /// Ends the process at once with SIGKILL — no draining, no clean close of the store —
    /// and waits for it to be gone.
    /// Reads the mails `other` logs as this server's too: on one store, either may deliver a
    /// mail the other queued.
    pub fn share_mailbox_with(&mut self, other: &Server) {
        self.mailbox_logs.push(other.log.clone());
    }

    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        // `Child::kill` sends SIGKILL on Unix.
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Every mail logged so far, by this server or one it shares a mailbox with, oldest first.
    pub fn mails(&self) -> Vec<LoggedMail> {
        let mut events = self.log_events();
        for log in &self.mailbox_logs {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            events.extend(
                text.lines()
                    .filter_map(|line| serde_json::from_str::<Value>(line).ok()),
            );
        }
        // RFC 3339 times of one format and zone sort as text.
        events.sort_by(|x, y| x["timestamp"].as_str().cmp(&y["timestamp"].as_str()));
        events
            .into_iter()
            .filter_map(|event| {
                let kind = event["mail_kind"].as_str()?.to_owned();
                let message = event["message"].as_str()?;
                // "mail to NAME <ADDRESS>, not sent (console transport)\nSubject: …\n\nBODY\n---"
                let first_line = message.lines().next()?;
                let to = first_line.split('<').nth(1)?.split('>').next()?.to_owned();
                let (_, body) = message.split_once("\n\n")?;
                let text = body.strip_suffix("\n---").unwrap_or(body).to_owned();
                Some(LoggedMail { kind, to, text })
            })
            .collect()
    }

    /// How many mails of `kind` went to `to` so far.
    pub fn mail_count(&self, to: &str, kind: &str) -> usize {
        self.mails()
            .iter()
            .filter(|m| m.to == to && m.kind == kind)
            .count()
    }

    /// The `index`-th (from 0) mail of `kind` to `to`, waiting for it to be logged.
    pub async fn mail(&self, to: &str, kind: &str, index: usize) -> LoggedMail {
        let deadline = Instant::now() + MAIL_DEADLINE;
        loop {
            let found = self
                .mails()
                .into_iter()
                .filter(|m| m.to == to && m.kind == kind)
                .nth(index);
            if let Some(mail) = found {
                return mail;
            }
            assert!(
                Instant::now() < deadline,
                "no {kind} mail #{index} to {to} in the log:\n{}",
                self.log_text()
            );
            sleep(POLL_EVERY).await;
        }
    }

    /// Sends one request and reads the whole answer; `Err` when no answer came (the
    /// connection failed or broke).
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(access) = access {
            request = request.bearer_auth(access);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let retry_after = header("retry-after");
        let www_authenticate = header("www-authenticate");
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Ok(Answer {
            status,
            retry_after,
            www_authenticate,
            body,
        })
    }

    /// `try_call`, for a server that must answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        self.try_call(method.clone(), path, access, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: no answer: {e}"))
    }

    pub async fn post(&self, path: &str, access: Option<&str>, body: Value) -> Answer {
        self.call(Method::POST, path, access, Some(&body)).await
    }

    pub async fn get(&self, path: &str, access: &str) -> Answer {
        self.call(Method::GET, path, Some(access), None).await
    }

    /// Registers a client (202) and verifies the address with the mailed link's token.
    pub async fn register_and_verify(&self, name: &str, email: &str, password: &str) {
        let seen = self.mail_count(email, "verify_email");
        let registered = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"name": name, "email": email, "password": password}),
            )
            .await;
        assert_eq!(registered.status, StatusCode::ACCEPTED, "{registered:?}");
        let token = self.mail(email, "verify_email", seen).await.link_token();
        let verified = self
            .post("/api/v1/auth/verify-email", None, json!({"token": token}))
            .await;
        assert_eq!(verified.status, StatusCode::NO_CONTENT, "{verified:?}");
    }

    /// Starts a login with the right password: the challenge id and the mailed code.
    pub async fn login_challenge(&self, email: &str, password: &str) -> (String, String) {
        let seen = self.mail_count(email, "login_code");
        let login = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(login.status, StatusCode::ACCEPTED, "{login:?}");
        let challenge = login.body["challenge_id"].as_str().unwrap().to_owned();
        let code = self.mail(email, "login_code", seen).await.code();
        (challenge, code)
    }

    /// Signs in with the password and the mailed code; returns the tokens' JSON.
    pub async fn sign_in(&self, email: &str, password: &str) -> Value {
        let (challenge, code) = self.login_challenge(email, password).await;
        let verified = self
            .post(
                "/api/v1/auth/2fa/verify",
                None,
                json!({"challenge_id": challenge, "code": code}),
            )
            .await;
        assert_eq!(verified.status, StatusCode::OK, "{verified:?}");
        verified.body
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
