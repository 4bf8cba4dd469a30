//! Test support: real databases (an SQLite file; PostgreSQL when
//! `MAYDAY_TEST_POSTGRES_URL` is set) and a real server on an ephemeral port.

pub mod smtp;

use std::net::SocketAddr;

use clap::Parser;
use mayday_collector::accounts;
use mayday_collector::cli::Cli;
use mayday_collector::config::Config;
use mayday_collector::store::{ProjectRole, Store};
use mayday_collector::{AppInner, AppState, router};
use sea_orm::{ConnectionTrait, Database};

/// A database for one test, removed afterwards.
pub struct TestDb {
    /// Connection URL.
    pub url: String,
    /// `sqlite` or `postgres`.
    pub kind: &'static str,
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server's admin URL and the database to drop.
    postgres: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run inside a runtime; use a thread with its own to drop the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// An SQLite file in a fresh temporary folder.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/mayday.db?mode=rwc", dir.path().display());
    TestDb {
        url,
        kind: "sqlite",
        _dir: Some(dir),
        postgres: None,
    }
}

/// A fresh PostgreSQL database, when `MAYDAY_TEST_POSTGRES_URL` names a server.
pub async fn postgres() -> Option<TestDb> {
    let admin_url = std::env::var("MAYDAY_TEST_POSTGRES_URL").ok()?;
    let name = format!("mayday_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(&admin_url).expect("MAYDAY_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(TestDb {
        url: url.to_string(),
        kind: "postgres",
        _dir: None,
        postgres: Some((admin_url, name)),
    })
}

/// SQLite always, and PostgreSQL when configured: store tests run on each.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    if let Some(pg) = postgres().await {
        dbs.push(pg);
    }
    dbs
}

/// The collector's configuration with `args` on top of the defaults.
pub fn config(db: &TestDb, args: &[&str]) -> Config {
    let mut all = vec!["mayday-collector", "--database-url", &db.url];
    all.extend_from_slice(args);
    Cli::try_parse_from(all).expect("valid arguments").config()
}

/// A running collector.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its state (store, metrics).
    pub state: AppState,
    /// The default project's id.
    pub project_id: i64,
    /// The default project's key.
    pub key: String,
    /// The default project's DSN.
    pub dsn: String,
}

impl TestServer {
    /// Starts a collector's state (writer, notification worker) and HTTP listener on
    /// `db` with `args`; returns its base URL and state.
    async fn launch(db: &TestDb, args: &[&str]) -> (String, AppState) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let listen = addr.to_string();
        let mut all = vec!["--listen", listen.as_str()];
        all.extend_from_slice(args);
        let config = config(db, &all);
        let store = Store::connect(&db.url).await.expect("store");
        let state = AppInner::new(config, store).expect("valid settings");
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        (format!("http://{addr}"), state)
    }

    /// Starts a second collector process's worth of state on the same database as
    /// `other` (its own writer, notification worker and HTTP listener).
    pub async fn join(db: &TestDb, args: &[&str], other: &TestServer) -> TestServer {
        let (base, state) = Self::launch(db, args).await;
        TestServer {
            base,
            state,
            project_id: other.project_id,
            key: other.key.clone(),
            dsn: other.dsn.clone(),
        }
    }

    /// Starts a collector on `db`, a database that holds a project named `default`
    /// already (a database an earlier version wrote, say).
    pub async fn open(db: &TestDb, args: &[&str]) -> TestServer {
        let (base, state) = Self::launch(db, args).await;
        let project = state
            .store
            .project_by_name("default")
            .await
            .expect("the project default");
        let key = state
            .store
            .project_keys(project.id)
            .await
            .expect("keys")
            .into_iter()
            .find(|key| key.active)
            .expect("an active key")
            .public_key;
        let dsn = state.config.dsn(&key, project.id);
        TestServer {
            base,
            state,
            project_id: project.id,
            key,
            dsn,
        }
    }

    /// Starts a collector on `db` with `args`, and a project named `default`.
    pub async fn start(db: &TestDb, args: &[&str]) -> TestServer {
        let (base, state) = Self::launch(db, args).await;
        let project = state
            .store
            .create_project("default")
            .await
            .expect("project");
        let key = project.keys[0].public_key.clone();
        let dsn = state.config.dsn(&key, project.project.id);
        TestServer {
            base,
            state,
            project_id: project.project.id,
            key,
            dsn,
        }
    }

    /// The default project's issues (the first ten, as the issue list orders them).
    pub async fn issues(&self) -> Vec<mayday_collector::store::entities::issue::Model> {
        self.issues_up_to(10).await
    }

    /// The default project's first `limit` issues, as the issue list orders them.
    pub async fn issues_up_to(
        &self,
        limit: u64,
    ) -> Vec<mayday_collector::store::entities::issue::Model> {
        self.state
            .store
            .list_issues(
                self.project_id,
                &mayday_collector::store::IssueFilter {
                    limit,
                    ..Default::default()
                },
            )
            .await
            .expect("the issues read")
    }

    /// An issue's stored events (the newest ten).
    pub async fn issue_events(&self, issue_id: i64) -> Vec<mayday_collector::store::StoredEvent> {
        self.state
            .store
            .issue_events(issue_id, 0, 10)
            .await
            .expect("the events read")
    }

    /// The envelope endpoint of the default project.
    pub fn envelope_url(&self) -> String {
        format!("{}/api/{}/envelope/", self.base, self.project_id)
    }

    /// The `X-Sentry-Auth` value for the default key.
    pub fn auth(&self) -> String {
        format!(
            "Sentry sentry_version=7, sentry_key={}, sentry_client=test/1.0",
            self.key
        )
    }

    /// Creates an account and returns an API token for it.
    pub async fn token(&self, email: &str, admin: bool) -> String {
        let store = &self.state.store;
        let account = accounts::create_account(
            store,
            email,
            Some("Test User"),
            "correct horse battery",
            admin,
        )
        .await
        .expect("account");
        accounts::create_api_token(store, account.id, "tests")
            .await
            .expect("token")
    }

    /// Makes the account `email` a member of the default project.
    pub async fn add_member(&self, email: &str) {
        let store = &self.state.store;
        let account = store.account_by_email(email).await.expect("account");
        store
            .add_member(self.project_id, account.id, ProjectRole::Member)
            .await
            .expect("membership");
    }
}

/// A collector that mails a real SMTP server, on a fresh SQLite file, looking for
/// notifications to send every 50 ms; from [`with_mail`] the default project's
/// recipient is `team@shop.example`.
pub struct WithMail {
    /// The SMTP server the collector sends to.
    pub smtp: smtp::SmtpServer,
    /// The collector.
    pub server: TestServer,
    _db: TestDb,
}

/// Starts an SMTP server and a collector sending to it with `args`; see [`WithMail`].
pub async fn with_mail(args: &[&str]) -> WithMail {
    let mail = with_smtp(args).await;
    mail.server
        .state
        .store
        .add_recipient(mail.server.project_id, "team@shop.example")
        .await
        .expect("a recipient");
    mail
}

/// Like [`with_mail`], with no recipient: only messages to users go out.
pub async fn with_smtp(args: &[&str]) -> WithMail {
    let smtp = smtp::SmtpServer::start(0).await;
    let db = sqlite();
    let url = smtp.url();
    let mut all = vec!["--smtp-url", url.as_str(), "--notify-poll-ms", "50"];
    all.extend_from_slice(args);
    let server = TestServer::start(&db, &all).await;
    WithMail {
        smtp,
        server,
        _db: db,
    }
}

/// Waits (at most 20 s) until every notification `server`'s default project queued has
/// been delivered or given up, and returns how many were queued: a test that expects
/// no more mail asks this instead of waiting for mail that must not come.
pub async fn notifications_settled(server: &TestServer) -> usize {
    use mayday_collector::store::DeliveryStatus;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let rows = server
            .state
            .store
            .notifications(server.project_id, None, 1000)
            .await
            .expect("notifications");
        let pending = rows
            .iter()
            .filter(|row| row.status == DeliveryStatus::Pending)
            .count();
        if pending == 0 {
            return rows.len();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pending} notifications still pending"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// An envelope with one event item.
pub fn envelope(event: &serde_json::Value) -> Vec<u8> {
    let payload = serde_json::to_vec(event).expect("json");
    let mut out = b"{}\n".to_vec();
    out.extend_from_slice(
        format!("{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).as_bytes(),
    );
    out.extend_from_slice(&payload);
    out.push(b'\n');
    out
}

/// A panic event from `function`, as mayday-reporter would send it.
pub fn panic_event(function: &str, user_id: Option<&str>) -> serde_json::Value {
    let mut event = serde_json::json!({
        "event_id": uuid::Uuid::new_v4().simple().to_string(),
        "level": "fatal",
        "release": "shop@1.0.0",
        "environment": "production",
        "exception": {"values": [{
            "type": "panic",
            "value": format!("boom in {function}"),
            "stacktrace": {"frames": [
                {"function": "tokio::runtime::poll", "in_app": false},
                {"function": function, "module": "shop::checkout", "in_app": true, "lineno": 10}
            ]}
        }]}
    });
    if let Some(id) = user_id {
        event["user"] = serde_json::json!({"id": id, "email": format!("{id}@example.com")});
    }
    event
}

/// Posts one event to `server`'s default project and checks it was accepted.
pub async fn ingest(server: &TestServer, event: &serde_json::Value) {
    let response = reqwest::Client::new()
        .post(server.envelope_url())
        .header("x-sentry-auth", server.auth())
        .body(envelope(event))
        .send()
        .await
        .expect("collector answers");
    assert_eq!(response.status(), 200);
}

/// A folder of Python packages from PyPI, installed under the target directory on first
/// use, so that tests need no manual setup. Installs go to a temporary folder that is
/// renamed into place, and tests of one binary take turns, so concurrent tests never see
/// a half-installed folder.
pub async fn python_packages(name: &str, requirement: &str, module: &str) -> std::path::PathBuf {
    static INSTALLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = INSTALLING.lock().await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if !dir.join(module).is_dir() {
        let staging = dir.with_extension(format!("tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        let status = tokio::process::Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&staging)
            .arg(requirement)
            .status()
            .await
            .expect("python3 with pip runs");
        assert!(
            status.success(),
            "installing {requirement} from PyPI failed"
        );
        if std::fs::rename(&staging, &dir).is_err() {
            // Another process put it in place first.
            let _ = std::fs::remove_dir_all(&staging);
        }
    }
    dir
}

/// Serves `examples/axum-app` on loopback, reporting to `server` in `environment`;
/// returns the reporter and the app's base URL.
pub async fn demo_app(
    server: &TestServer,
    environment: &str,
) -> (mayday_reporter::Reporter, String) {
    let reporter = mayday_reporter::Reporter::builder(axum_app::build_info())
        .dsn(server.dsn.clone())
        .environment(environment)
        .build()
        .expect("reporter");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let app_url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum_app::app(&reporter);
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (reporter, app_url)
}

/// An HTTP client that does not follow redirects (so that tests see them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A form shown before sign-in (`/login` or `/setup`), as a browser gets it: the
/// `Cookie` header carrying its form token, and the token the form carries.
pub struct PreAuthForm {
    /// `mayday_form=<token>`.
    pub cookie: String,
    /// The form's `csrf` value.
    pub csrf: String,
}

/// Loads `path` (`/login` or `/setup`) like a browser, for its form token.
pub async fn preauth_form(server: &TestServer, path: &str) -> PreAuthForm {
    let response = client()
        .get(format!("{}{path}", server.base))
        .send()
        .await
        .expect("form page");
    let cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mayday_form="))
        .expect("a form cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let html = response.text().await.unwrap_or_default();
    let at = html.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    let csrf = html[at..].split('"').next().unwrap_or_default().to_owned();
    PreAuthForm { cookie, csrf }
}

/// Posts `fields` to `path` (`/login` or `/setup`) with a form token, as a browser
/// that loaded the form would.
pub async fn post_preauth(
    server: &TestServer,
    path: &str,
    fields: &[(&str, &str)],
    extra_headers: &[(&str, &str)],
) -> reqwest::Response {
    let form = preauth_form(server, path).await;
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("csrf", &form.csrf));
    let mut request = client()
        .post(format!("{}{path}", server.base))
        .header(reqwest::header::COOKIE, &form.cookie)
        .form(&all);
    for (name, value) in extra_headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("form post")
}

/// Signs in through `/login`; returns the `Cookie` header value.
pub async fn sign_in(server: &TestServer, email: &str, password: &str) -> String {
    let response = post_preauth(
        server,
        "/login",
        &[("email", email), ("password", password)],
        &[],
    )
    .await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mayday_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap_or_default().to_owned()
}

/// A page fetched with `cookie`: its status and body.
pub async fn page(server: &TestServer, cookie: &str, path: &str) -> (reqwest::StatusCode, String) {
    let response = client()
        .get(format!("{}{path}", server.base))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .expect("page");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// The id of the newest issue of `server`'s default project, from the API.
pub async fn latest_issue_id(server: &TestServer, token: &str) -> i64 {
    let issues: serde_json::Value = client()
        .get(format!(
            "{}/api/v1/projects/{}/issues",
            server.base, server.project_id
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("issues")
        .json()
        .await
        .expect("JSON");
    issues["issues"][0]["id"].as_i64().expect("an issue")
}

/// `GET path` on the API as `token`: the JSON answer.
pub async fn api_json(server: &TestServer, token: &str, path: &str) -> serde_json::Value {
    client()
        .get(format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("API request")
        .json()
        .await
        .expect("JSON")
}

/// The CSRF token in a page's first form.
pub fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap_or_default().to_owned()
}

/// Posts `fields` to `path` as a signed-in browser would: with the session `cookie`,
/// and the CSRF token of the page `form_page` (the page the form is on).
pub async fn post_form(
    server: &TestServer,
    cookie: &str,
    form_page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (_, html) = page(server, cookie, form_page).await;
    let csrf = csrf_in(&html);
    let mut all = fields.to_vec();
    all.push(("csrf", &csrf));
    client()
        .post(format!("{}{path}", server.base))
        .header(reqwest::header::COOKIE, cookie)
        .form(&all)
        .send()
        .await
        .expect("form post")
}

/// The settings of an uptime check of `url` named `name`, every `interval_seconds`,
/// down after two failures.
pub fn uptime_check(
    name: &str,
    url: &str,
    interval_seconds: u64,
) -> mayday_collector::monitors::MonitorSettings {
    mayday_collector::monitors::MonitorSettings {
        name: name.into(),
        spec: mayday_collector::monitors::MonitorSpec::Http(mayday_collector::monitors::HttpSpec {
            url: url.into(),
            interval_seconds,
            timeout_seconds: 5,
            failures: 2,
            expect_status: Default::default(),
            keyword: None,
        }),
    }
}

/// Runs the ignored test `name` (its full path, `module::test`) of this binary in a
/// process of its own, with `env` set, and fails when it fails: for the few tests that
/// need the process to themselves (a global tracing subscriber, say).
pub fn isolated(name: &str, env: &[(&str, &str)]) {
    let binary = std::env::current_exe().expect("the test binary's path");
    let output = std::process::Command::new(binary)
        .args([name, "--exact", "--ignored", "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 passed"),
        "{name} in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `mayday-collector` binary, run as an operator runs it.
pub const BIN: &str = env!("CARGO_BIN_EXE_mayday-collector");

/// A `mayday-collector` process serving on a port of its own.
pub struct Process {
    /// The child; stopped (SIGKILL) when dropped unless waited for.
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The default project's key (printed at its first start), if it printed one.
    pub key: Option<String>,
}

impl Process {
    /// Starts the binary on `database_url` with `env`, waits until it answers.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Process {
        use std::io::{BufRead, BufReader};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let mut child = std::process::Command::new(BIN)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("MAYDAY_DATABASE_URL", database_url)
            .env("MAYDAY_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let stderr = child.stderr.take().expect("stderr");
        let (found, key) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(dsn) = line.trim().strip_prefix("MAYDAY_DSN=http://") {
                        let _ = found.send(dsn.split('@').next().map(str::to_owned));
                        sent = true;
                    } else if line.contains("listening on") {
                        let _ = found.send(None);
                        sent = true;
                    }
                }
            }
        });
        let key = key
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the collector starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while reqwest::get(format!("{base}/healthz")).await.is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the collector answers"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Process { child, base, key }
    }

    /// Sends SIGKILL and waits for the end: no drain, no checkpoint, as a crash.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("it ends");
    }

    /// Sends SIGTERM and waits for the exit; whether it exited 0.
    pub async fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let mut child = std::mem::replace(
            &mut self.child,
            std::process::Command::new("true")
                .spawn()
                .expect("true runs"),
        );
        tokio::task::spawn_blocking(move || child.wait().expect("it exits").success())
            .await
            .expect("waited")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary with `args` on `database_url`: whether it succeeded, its stdout and
/// its stderr.
pub fn command(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(BIN)
        .args(args)
        .env("MAYDAY_DATABASE_URL", database_url)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl TestDb {
    /// The same database reached at `address` (a proxy in front of PostgreSQL); the
    /// original keeps the duty of removing it.
    pub fn through(&self, address: SocketAddr) -> TestDb {
        let mut url = url::Url::parse(&self.url).expect("a URL");
        let _ = url.set_ip_host(address.ip());
        let _ = url.set_port(Some(address.port()));
        TestDb {
            url: url.to_string(),
            kind: self.kind,
            _dir: None,
            postgres: None,
        }
    }
}

/// A TCP proxy in front of a server that the test can take down (every connection cut,
/// new ones refused) and bring back on the same port: a database outage without
/// stopping the database other tests use.
pub struct Proxy {
    /// Where clients connect.
    pub address: SocketAddr,
    target: SocketAddr,
    running: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Proxy {
    /// A proxy to `target`, up.
    pub async fn start(target: SocketAddr) -> Proxy {
        let probe = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = probe.local_addr().expect("address");
        drop(probe);
        let proxy = Proxy {
            address,
            target,
            running: std::sync::Mutex::new(None),
        };
        proxy.up();
        proxy
    }

    /// Accepts connections again, on the same port.
    pub fn up(&self) {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("reuseaddr");
        socket.bind(self.address).expect("the proxy's port again");
        let listener = socket.listen(64).expect("listen");
        let target = self.target;
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        *self.running.lock().expect("lock") = Some(task);
    }

    /// Cuts every connection and refuses new ones (the listener closed).
    pub fn down(&self) {
        if let Some(task) = self.running.lock().expect("lock").take() {
            // Aborting drops the listener and the JoinSet, which aborts every copy.
            task.abort();
        }
    }

    /// Cuts every connection and accepts new ones at once (a server restart).
    pub async fn cut(&self) {
        let running = self.running.lock().expect("lock").take();
        if let Some(task) = running {
            task.abort();
            // Its listener is closed once the aborted task is dropped.
            let _ = task.await;
        }
        self.up();
    }
}

impl TestDb {
    /// The database at `url`, which the caller keeps and removes.
    pub fn at(url: &str) -> TestDb {
        TestDb {
            url: url.to_owned(),
            kind: if url.starts_with("postgres") {
                "postgres"
            } else {
                "sqlite"
            },
            _dir: None,
            postgres: None,
        }
    }
}
