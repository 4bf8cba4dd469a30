//! The binary's commands, run as a user would run them.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mayday-collector");

fn run(db: &common::TestDb, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("MAYDAY_DATABASE_URL", &db.url)
        .env("MAYDAY_BASE_URL", "http://collector.test:8300")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("it exits");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn project_user_and_token_commands() {
    let db = common::sqlite();
    let (ok, out, err) = run(&db, &["project", "create", "shop"], "");
    assert!(ok, "{err}");
    let dsn = out.trim();
    assert_eq!(out.lines().count(), 1, "only the DSN on stdout: {out:?}");
    let parsed: mayday_protocol::Dsn = dsn.parse().expect("a valid DSN");
    assert_eq!(parsed.host(), "collector.test");
    assert_eq!(parsed.port(), Some(8300));

    let (ok, _, err) = run(&db, &["project", "create", "shop"], "");
    assert!(!ok, "a second project of that name is refused");
    assert!(err.contains("already exists"), "{err}");

    let (ok, out, _) = run(&db, &["project", "list"], "");
    assert!(ok);
    assert!(out.contains("shop") && out.contains(dsn), "{out}");

    let (ok, _, err) = run(
        &db,
        &[
            "user",
            "create",
            "--email",
            "jane@example.com",
            "--name",
            "Jane Doe",
            "--admin",
        ],
        "a-long-password\n",
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        &db,
        &["user", "create", "--email", "short@example.com"],
        "short\n",
    );
    assert!(!ok);
    assert!(err.contains("at least 8 characters"), "{err}");

    let (ok, token, err) = run(&db, &["token", "create", "--email", "jane@example.com"], "");
    assert!(ok, "{err}");
    assert_eq!(token.trim().len(), 64);
    let (ok, _, err) = run(
        &db,
        &["token", "create", "--email", "nobody@example.com"],
        "",
    );
    assert!(!ok);
    assert!(err.contains("not found"), "{err}");

    let (ok, _, err) = run(
        &db,
        &[
            "project",
            "add-member",
            "shop",
            "--email",
            "jane@example.com",
        ],
        "",
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(&db, &["project", "rate-limit", "shop", "120"], "");
    assert!(ok, "{err}");
}

#[test]
fn monitor_commands() {
    let db = common::sqlite();
    assert!(run(&db, &["project", "create", "shop"], "").0);
    let (ok, out, err) = run(
        &db,
        &[
            "--allow-private-targets",
            "monitor",
            "http",
            "shop",
            "Shop home",
            "http://127.0.0.1:9/",
            "--interval-seconds",
            "30",
            "--failures",
            "3",
            "--expect-status",
            "200-299",
            "--keyword",
            "Welcome",
        ],
        "",
    );
    assert!(ok, "{err}");
    assert!(out.trim().ends_with("\tshop-home"), "{out}");
    let (ok, _, err) = run(
        &db,
        &[
            "--allow-private-targets",
            "monitor",
            "sitemap",
            "shop",
            "Pages",
            "http://127.0.0.1:9/sitemap.xml",
            "--max-urls",
            "50",
        ],
        "",
    );
    assert!(ok, "{err}");
    // Without the instance's permission a private address is refused, with the reason.
    let (ok, _, err) = run(
        &db,
        &["monitor", "http", "shop", "Internal", "http://127.0.0.1:9/"],
        "",
    );
    assert!(!ok);
    assert!(err.contains("MAYDAY_ALLOW_PRIVATE_TARGETS"), "{err}");
    let (ok, _, err) = run(
        &db,
        &[
            "--allow-private-targets",
            "monitor",
            "http",
            "shop",
            "Bad range",
            "http://127.0.0.1:9/",
            "--expect-status",
            "399-200",
        ],
        "",
    );
    assert!(!ok);
    assert!(err.contains("expect-status"), "{err}");
    assert!(run(&db, &["monitor", "pause", "shop", "pages"], "").0);
    let (ok, out, _) = run(&db, &["monitor", "list", "shop"], "");
    assert!(ok);
    assert!(out.contains("shop-home\thttp\tpending"), "{out}");
    assert!(out.contains("pages\tsitemap\tpending\tpaused"), "{out}");
    assert!(run(&db, &["monitor", "remove", "shop", "pages"], "").0);
    let (_, out, _) = run(&db, &["monitor", "list", "shop"], "");
    assert!(!out.contains("pages"), "{out}");
    let (ok, _, err) = run(&db, &["monitor", "remove", "shop", "pages"], "");
    assert!(!ok && err.contains("no monitor pages"), "{err}");
}

#[test]
fn help_documents_every_setting() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in [
        "MAYDAY_LISTEN",
        "MAYDAY_DATABASE_URL",
        "MAYDAY_BASE_URL",
        "MAYDAY_MAX_EVENT_BYTES",
        "MAYDAY_MAX_ENVELOPE_BYTES",
        "MAYDAY_RATE_LIMIT",
        "MAYDAY_RETENTION_EVENTS_PER_ISSUE",
        "MAYDAY_RETENTION_DAYS",
    ] {
        assert!(help.contains(variable), "{variable} in --help");
    }
    let bad = Command::new(BIN)
        .args(["--base-url", "ftp://x"])
        .env("MAYDAY_DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("MAYDAY_BASE_URL"));
}

#[test]
fn first_start_creates_the_default_project_and_prints_its_dsn() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    // No database URL: the default SQLite file under ./mayday-data is created.
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("MAYDAY_DATABASE_URL")
        .env_remove("MAYDAY_BASE_URL")
        .env("MAYDAY_LISTEN", format!("127.0.0.1:{port}"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = format!("http://127.0.0.1:{port}/healthz");
    let mut up = false;
    while Instant::now() < deadline {
        if healthy(port) {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().ok();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(up, "the collector listened on {health}: {stderr}");
    assert!(stderr.contains("MAYDAY_DSN=http://"), "{stderr}");
    assert!(stderr.contains(&format!("@127.0.0.1:{port}/1")), "{stderr}");
    assert!(
        stderr.contains("user create"),
        "the first-admin hint: {stderr}"
    );
    assert!(dir.path().join("mayday-data/mayday.db").is_file());
}

/// Whether `GET /healthz` answers 200 (the server serves only after its first-start work).
fn healthy(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

/// Runs the binary with extra environment variables; (success, stdout, stderr).
fn run_with(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env_remove("MAYDAY_DATABASE_URL")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Yes/no settings as people write them; a bad one names its variable and the forms.
#[test]
fn settings_take_yes_and_no_as_people_write_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db?mode=rwc", dir.path().display());
    for yes in ["1", "true", "yes", "ON", "off", "0"] {
        let (ok, _, err) = run_with(
            &["project", "list"],
            &[
                ("MAYDAY_DATABASE_URL", &url),
                ("MAYDAY_ALLOW_PRIVATE_TARGETS", yes),
            ],
        );
        assert!(ok, "MAYDAY_ALLOW_PRIVATE_TARGETS={yes}: {err}");
    }
    let (ok, _, err) = run_with(
        &["project", "list"],
        &[
            ("MAYDAY_DATABASE_URL", &url),
            ("MAYDAY_ALLOW_PRIVATE_TARGETS", "maybe"),
        ],
    );
    assert!(!ok);
    assert!(
        err.starts_with("error: MAYDAY_ALLOW_PRIVATE_TARGETS=\"maybe\" is not a valid value")
            && err.contains("yes or no"),
        "{err}"
    );
    let (ok, _, err) = run_with(&["--rate-limit", "lots"], &[("MAYDAY_DATABASE_URL", &url)]);
    assert!(!ok);
    assert!(
        err.contains("--rate-limit") && !err.contains("MAYDAY_RATE_LIMIT="),
        "{err}"
    );
}

/// Each command's help shows its own options and the common ones, not every setting of
/// the server; the server's help lists them all, `MAYDAY_LOG` included.
#[test]
fn each_help_shows_its_own_options() {
    let (_, serve_help, _) = run_with(&["--help"], &[]);
    for setting in [
        "MAYDAY_LOG",
        "MAYDAY_SMTP_URL",
        "MAYDAY_RATE_LIMIT",
        "MAYDAY_MAX_BYTES_IN_FLIGHT",
    ] {
        assert!(serve_help.contains(setting), "{setting} in --help");
    }
    let rate = serve_help.split("--rate-limit").nth(1).unwrap_or_default();
    assert!(rate.trim_start().starts_with("<RATE_LIMIT>"), "{rate}");
    assert!(rate.contains("Events per minute"), "its own help: {rate}");
    let (_, project_help, _) = run_with(&["project", "--help"], &[]);
    assert!(project_help.contains("--database-url"));
    assert!(!project_help.contains("--smtp-url"), "{project_help}");
}

/// Start-up mistakes in one line each, naming the input and the fix, no backtrace.
#[test]
fn database_mistakes_are_said_in_one_line_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite:{}/nope.db", dir.path().display());
    let bare = format!("{}/mayday.db", dir.path().display());
    let unknown_option = format!(
        "sqlite://{}/x.db?mode=rwc&journal=wal",
        dir.path().display()
    );
    let cases = [
        (missing.as_str(), "?mode=rwc"),
        (bare.as_str(), "sqlite://"),
        (
            "postgres://me:secret@127.0.0.1:1/mayday",
            "is PostgreSQL running?",
        ),
        (
            "postgres://me:secret@127.0.0.1:1/mayday?sslmode=bogus",
            "?sslmode=disable, prefer or require",
        ),
        (&unknown_option, "unknown query parameter `journal`"),
    ];
    for (url, fix) in cases {
        let (ok, _, err) = run_with(
            &["project", "list"],
            &[("MAYDAY_DATABASE_URL", url), ("RUST_BACKTRACE", "1")],
        );
        assert!(!ok, "{url}");
        assert_eq!(err.lines().count(), 1, "one line for {url}: {err}");
        assert!(err.contains(fix), "{fix} for {url}: {err}");
        assert!(!err.contains("secret"), "the password is hidden: {err}");
    }
    // A user PostgreSQL does not know (where a server runs): a role, not a database, to
    // create.
    if let Ok(admin) = std::env::var("MAYDAY_TEST_POSTGRES_URL") {
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_username("mayday_no_such_role").unwrap();
        let (ok, _, err) = run_with(
            &["project", "list"],
            &[("MAYDAY_DATABASE_URL", url.as_str())],
        );
        assert!(!ok);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("role \"mayday_no_such_role\" does not exist")
                && err.contains("createuser"),
            "{err}"
        );
    }
    // A read-only database file: named, with what to do.
    let url = format!("sqlite://{}/ro.db?mode=rwc", dir.path().display());
    assert!(run_with(&["project", "list"], &[("MAYDAY_DATABASE_URL", &url)]).0);
    let file = dir.path().join("ro.db");
    let mut permissions = std::fs::metadata(&file).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&file, permissions).unwrap();
    let dir_permissions = std::fs::metadata(dir.path()).unwrap().permissions();
    let mut read_only_dir = dir_permissions.clone();
    read_only_dir.set_readonly(true);
    std::fs::set_permissions(dir.path(), read_only_dir).unwrap();
    let (ok, _, err) = run_with(
        &["project", "create", "more"],
        &[("MAYDAY_DATABASE_URL", &url)],
    );
    std::fs::set_permissions(dir.path(), dir_permissions).unwrap();
    // Root writes anyway; elsewhere the message must say what is wrong.
    if !ok {
        assert!(err.contains("ro.db"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// A new database answers project commands before the first `serve`; a forgotten
/// password is set again from standard input.
#[test]
fn project_commands_before_serve_and_a_password_reset() {
    let db = common::sqlite();
    let (ok, _, err) = run(
        &db,
        &[
            "project",
            "recipients",
            "default",
            "add",
            "team@example.com",
        ],
        "",
    );
    assert!(ok, "the default project exists on a new database: {err}");
    let (ok, _, err) = run(
        &db,
        &["user", "create", "--email", "root@example.com", "--admin"],
        "correct horse battery\n",
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        &db,
        &["user", "password", "--email", "root@example.com"],
        "short\n",
    );
    assert!(!ok && err.contains("at least 8 characters"), "{err}");
    let (ok, _, err) = run(
        &db,
        &["user", "password", "--email", "root@example.com"],
        "a brand new passphrase\n",
    );
    assert!(ok, "{err}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = mayday_collector::store::Store::connect(&db.url)
            .await
            .unwrap();
        let new = mayday_collector::accounts::authenticate(
            &store,
            "root@example.com",
            "a brand new passphrase",
        )
        .await
        .unwrap();
        assert!(new.is_some(), "the new password signs in");
        let old = mayday_collector::accounts::authenticate(
            &store,
            "root@example.com",
            "correct horse battery",
        )
        .await
        .unwrap();
        assert!(old.is_none(), "the old one does not");
    });
    let (ok, out, _) = run(&db, &["project", "recipients", "default", "list"], "");
    assert!(ok && out.contains("team@example.com"), "{out}");
}
