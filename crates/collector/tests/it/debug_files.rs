//! Stripped release binaries: the axum demo app built in release (the release-apps
//! test's build), its debug file split off with `objcopy --only-keep-debug` and the
//! binary stripped. Before the upload its frames are addresses and the event says which
//! debug file is missing; after uploading with the command line, the frames have the
//! right function, file and line, the culprit is the app's function, and the crash
//! groups with the same crash from the unstripped build. Bad uploads are refused.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, TestServer};
use crate::release_apps::{RunningApp, USERS, get, release_binaries};

/// The stripped copy of the axum app and its debug file, made once per run.
fn stripped_app() -> (PathBuf, PathBuf) {
    let original = release_binaries()
        .iter()
        .find(|(name, _)| name == "axum-app")
        .map(|(_, path)| path.clone())
        .expect("the axum app was built");
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("stripped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let debug = dir.join("axum-app.debug");
    let stripped = dir.join("axum-app");
    let run = |args: &[&std::ffi::OsStr]| {
        let status = Command::new("objcopy")
            .args(args)
            .status()
            .expect("objcopy runs");
        assert!(status.success(), "objcopy {args:?}");
    };
    run(&[
        "--only-keep-debug".as_ref(),
        original.as_os_str(),
        debug.as_os_str(),
    ]);
    run(&[
        "--strip-all".as_ref(),
        original.as_os_str(),
        stripped.as_os_str(),
    ]);
    (stripped, debug)
}

/// The real `sentry-cli` binary, from its npm package (`@sentry/cli` carries it in
/// `@sentry/cli-linux-x64`), installed under the target directory on first use.
async fn sentry_cli() -> PathBuf {
    static INSTALLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = INSTALLING.lock().await;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("node-sentry-cli");
    let binary = dir.join("node_modules/@sentry/cli-linux-x64/bin/sentry-cli");
    if !binary.is_file() {
        let status = tokio::process::Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("@sentry/cli@2")
            .status()
            .await
            .expect("npm runs (apt-get install npm)");
        assert!(status.success(), "installing @sentry/cli from npm failed");
    }
    binary
}

async fn api(server: &TestServer, token: &str, path: &str) -> Value {
    common::api_json(server, token, path).await
}

/// The newest event of the project once there are `count` events in all.
async fn events_after(server: &TestServer, token: &str, count: usize) -> Vec<(i64, Value)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let issues = api(
            server,
            token,
            &format!("/api/v1/projects/{}/issues?status=all", server.project_id),
        )
        .await;
        let mut events = Vec::new();
        for issue in issues["issues"].as_array().into_iter().flatten() {
            let id = issue["id"].as_i64().unwrap();
            let listed = api(server, token, &format!("/api/v1/issues/{id}/events")).await;
            for event in listed["events"].as_array().into_iter().flatten() {
                events.push((id, event.clone()));
            }
        }
        if events.len() >= count {
            return events;
        }
        assert!(Instant::now() < deadline, "{count} events: {events:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The line of the source file a frame names, read from this checkout.
fn source_at(frame: &Value) -> String {
    let path = frame["abs_path"].as_str().expect("abs_path");
    let line = frame["lineno"].as_u64().expect("lineno") as usize;
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().nth(line - 1).unwrap().to_owned()
}

/// `text` as the pages write it.
fn html_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Waits until the project's newest event's culprit frame has its source lines;
/// returns its line number and the line.
async fn with_sources(server: &TestServer, token: &str) -> (u64, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = events_after(server, token, 1).await;
        let frames = app_frames(&events[0].1);
        let culprit = frames.iter().rev().find(|f| f["in_app"] == true).cloned();
        if let Some(culprit) = culprit
            && let Some(line) = culprit["context_line"].as_str()
        {
            assert_eq!(line, source_at(&culprit), "{culprit:#}");
            assert!(
                culprit["pre_context"]
                    .as_array()
                    .is_some_and(|l| !l.is_empty())
            );
            return (culprit["lineno"].as_u64().unwrap(), line.to_owned());
        }
        assert!(Instant::now() < deadline, "source lines: {frames:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn app_frames(event: &Value) -> Vec<Value> {
    event["payload"]["exception"]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| {
            e["stacktrace"]["frames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripped_build_is_named_from_its_uploaded_debug_file() {
    let (stripped, debug) = stripped_app();
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("dev@example.com", true).await;

    // Before the upload: addresses, and the missing file named.
    let app = RunningApp::start_binary(&stripped, &server.dsn);
    assert_eq!(
        get(&format!("{}/panic", app.base), USERS[0]).await.status(),
        500
    );
    let events = events_after(&server, &token, 1).await;
    let (_, before) = &events[0];
    let images = before["payload"]["debug_meta"]["images"]
        .as_array()
        .expect("debug_meta");
    let exe = images
        .iter()
        .find(|i| {
            i["code_file"]
                .as_str()
                .is_some_and(|f| f.ends_with("/axum-app"))
        })
        .expect("the executable among the images");
    let exe_frames: Vec<Value> = app_frames(before)
        .into_iter()
        .filter(|f| f["image_addr"] == exe["image_addr"])
        .collect();
    assert!(exe_frames.len() > 5, "the app's frames kept: {before:#}");
    assert!(
        exe_frames
            .iter()
            .all(|f| f["function"].is_null() && f["instruction_addr"].is_string()),
        "a stripped build names nothing of its own: {exe_frames:#?}"
    );
    let debug_id = exe["debug_id"].as_str().unwrap().to_owned();
    assert_eq!(
        before["payload"]["mayday_missing_debug_files"],
        serde_json::json!([debug_id])
    );
    let cookie = common::sign_in(&server, "dev@example.com", "correct horse battery").await;
    let (_, page) = common::page(
        &server,
        &cookie,
        &format!("/projects/{}/issues", server.project_id),
    )
    .await;
    let _ = page;
    let issue = events[0].0;
    let (_, page) = common::page(
        &server,
        &cookie,
        &format!("/projects/{}/issues/{issue}", server.project_id),
    )
    .await;
    assert!(
        page.contains(&format!("Debug file <code>{debug_id}</code>")),
        "the missing note"
    );
    assert!(page.contains("(unnamed)"));

    // Bad uploads, each refused with its reason.
    let upload_url = format!(
        "{}/api/v1/projects/{}/debug-files?name=x",
        server.base, server.project_id
    );
    let client = common::client();
    let bytes = std::fs::read(&debug).unwrap();
    for (body, said) in [
        (b"just text".to_vec(), "is not an ELF file"),
        (bytes[..2048].to_vec(), "x"),
        (
            std::fs::read(&stripped).unwrap(),
            "neither debug info nor a symbol table",
        ),
    ] {
        let answer = client
            .post(&upload_url)
            .bearer_auth(&token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
        let text = answer.text().await.unwrap();
        assert!(text.contains(said), "{text}");
    }
    // A token of someone outside the project.
    let outsider = server.token("outsider@example.com", false).await;
    let answer = client
        .post(&upload_url)
        .bearer_auth(&outsider)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);

    // The upload, with the command line over HTTP, as CI would.
    let output = Command::new(env!("CARGO_BIN_EXE_mayday-collector"))
        .args([
            "debug-files",
            "upload",
            "--project",
            "default",
            "--url",
            &server.base,
            "--token",
            &token,
            "--include-sources",
        ])
        .arg(&debug)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with(&debug_id));
    let listed = api(
        &server,
        &token,
        &format!("/api/v1/projects/{}/debug-files", server.project_id),
    )
    .await;
    // The debug file and, uploaded after it, its source bundle.
    let files = listed["debug_files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{listed:#}");
    assert_eq!(files[0]["kind"], "sources");
    assert_eq!(files[0]["debug_id"], debug_id.as_str());
    assert_eq!(files[1]["kind"], "elf");
    assert_eq!(files[1]["debug_id"], debug_id.as_str());
    assert_eq!(files[1]["size"], bytes.len());
    assert_eq!(files[1]["has_sources"], true);

    // The event that came before the upload is named in the background, and its issue
    // takes the crash's identity.
    let deadline = Instant::now() + Duration::from_secs(30);
    let before_issue = loop {
        let issue = api(&server, &token, &format!("/api/v1/issues/{issue}")).await;
        if issue["culprit"] == "axum_app::checkout::apply_coupon" {
            break issue;
        }
        assert!(
            Instant::now() < deadline,
            "the earlier event named: {issue:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(before_issue["count"], 1);
    let (_, renamed) = &events_after(&server, &token, 1).await[0];
    assert!(
        renamed["payload"]["mayday_missing_debug_files"].is_null(),
        "{renamed:#}"
    );
    let (_, page) = common::page(
        &server,
        &cookie,
        &format!("/projects/{}/issues/{issue}", server.project_id),
    )
    .await;
    assert!(
        !page.contains("(unnamed)"),
        "the issue page shows named frames"
    );
    // ... with the source lines around the app's frames, from the bundle.
    let (culprit_line, source_line) = with_sources(&server, &token).await;
    let (_, page) = common::page(
        &server,
        &cookie,
        &format!("/projects/{}/issues/{issue}", server.project_id),
    )
    .await;
    assert!(
        page.contains(&format!(
            "<mark><span class=\"lineno\">{culprit_line}</span>{}",
            html_text(&source_line)
        )),
        "the issue page shows line {culprit_line} of the culprit's file: {source_line}"
    );

    // Source links: in-app frames link to their line at the build's commit.
    let links = format!("/api/v1/projects/{}/source-links", server.project_id);
    for (template, status) in [
        ("https://github.com/acme/shop", 400),
        (
            "https://github.com/acme/shop/blob/{commit}/{path}#L{line}",
            200,
        ),
    ] {
        let answer = client
            .put(format!("{}{links}", server.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({"template": template}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{template}");
    }
    let commit = renamed["payload"]["contexts"]["app"]["app_build"]
        .as_str()
        .expect("the build's commit (the demo is built in a git checkout)")
        .to_owned();
    let (_, page) = common::page(
        &server,
        &cookie,
        &format!("/projects/{}/issues/{issue}", server.project_id),
    )
    .await;
    assert!(
        page.contains(&format!(
            "https://github.com/acme/shop/blob/{commit}/src/lib.rs#L"
        )),
        "a source link at {commit}"
    );

    // After: the same crash, named at ingest, with the app's function as the culprit,
    // in the same issue.
    assert_eq!(
        get(&format!("{}/panic", app.base), USERS[1]).await.status(),
        500
    );
    let events = events_after(&server, &token, 2).await;
    let named_issue = &issue;
    assert!(
        events.iter().all(|(i, _)| i == named_issue),
        "one issue: {events:#?}"
    );
    let after = events
        .iter()
        .map(|(_, e)| e)
        .find(|e| e["event_id"] != before["event_id"])
        .expect("the event after the upload");
    let frames = app_frames(after);
    let culprit = frames
        .iter()
        .rev()
        .find(|f| f["in_app"] == true)
        .unwrap_or_else(|| panic!("an in-app frame: {frames:#?}"));
    assert_eq!(
        culprit["function"], "axum_app::checkout::apply_coupon",
        "{frames:#?}"
    );
    assert_eq!(culprit["filename"], "src/lib.rs");
    assert!(
        culprit["lineno"].as_u64().is_some_and(|l| l > 0),
        "{culprit}"
    );
    assert_eq!(
        culprit["context_line"].as_str(),
        Some(source_at(culprit).as_str()),
        "source lines added at ingest: {culprit}"
    );

    // The unstripped build's crash joins the same issue.
    let unstripped = RunningApp::start("axum-app", &server.dsn);
    assert_eq!(
        get(&format!("{}/panic", unstripped.base), USERS[0])
            .await
            .status(),
        500
    );
    let events = events_after(&server, &token, 3).await;
    let joined = events
        .iter()
        .filter(|(issue, _)| issue == named_issue)
        .count();
    assert_eq!(joined, 3, "stripped and unstripped, one issue: {events:#?}");
}

#[tokio::test]
async fn a_project_keeps_its_debug_files_within_its_limit() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--debug-files-max-bytes", "1000"]).await;
    let token = server.token("dev@example.com", true).await;
    // This test binary is an ELF with a build id and debug info, larger than 1,000 bytes.
    let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let answer = common::client()
        .post(format!(
            "{}/api/v1/projects/{}/debug-files?name=big",
            server.base, server.project_id
        ))
        .bearer_auth(&token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    let text = answer.text().await.unwrap();
    assert!(text.contains("MAYDAY_DEBUG_FILES_MAX_BYTES"), "{text}");
}

/// `sentry-cli debug-files upload`, unmodified, pointed at the collector: the chunk
/// upload protocol stores the file, and the stripped app's crash is named from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentry_cli_uploads_debug_files() {
    let (stripped, debug) = stripped_app();
    let cli = sentry_cli().await;
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("dev@example.com", true).await;
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let upload = |token: &str| {
        Command::new(&cli)
            .args([
                "--url",
                &server.base,
                "--auth-token",
                token,
                "--log-level",
                "warn",
            ])
            .args([
                "debug-files",
                "upload",
                "--org",
                "any",
                "--project",
                "default",
                "--include-sources",
            ])
            .arg(&debug)
            .output()
            .unwrap()
    };
    // A member may not upload: a project admin's token is needed.
    let refused = upload(&member);
    assert!(
        !refused.status.success(),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    assert!(
        api(
            &server,
            &token,
            &format!("/api/v1/projects/{}/debug-files", server.project_id)
        )
        .await["debug_files"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Before the upload: the crash from the unstripped build, and the same crash from
    // the stripped one, which cannot be named yet: two issues.
    let unstripped = RunningApp::start("axum-app", &server.dsn);
    assert_eq!(
        get(&format!("{}/panic", unstripped.base), USERS[0])
            .await
            .status(),
        500
    );
    let app = RunningApp::start_binary(&stripped, &server.dsn);
    assert_eq!(
        get(&format!("{}/panic", app.base), USERS[1]).await.status(),
        500
    );
    let events = events_after(&server, &token, 2).await;
    let issues: std::collections::BTreeSet<i64> = events.iter().map(|(i, _)| *i).collect();
    assert_eq!(issues.len(), 2, "{events:#?}");

    let output = upload(&token);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    let listed = api(
        &server,
        &token,
        &format!("/api/v1/projects/{}/debug-files", server.project_id),
    )
    .await;
    let files = listed["debug_files"].as_array().unwrap();
    let file = files
        .iter()
        .find(|f| f["kind"] == "elf")
        .unwrap_or_else(|| panic!("the debug file: {listed:#}"));
    assert!(
        files.iter().any(|f| f["kind"] == "sources"),
        "sentry-cli's source bundle: {listed:#}"
    );
    assert_eq!(
        file["size"],
        std::fs::read(&debug).unwrap().len(),
        "{listed:#}"
    );
    let debug_id = file["debug_id"].as_str().unwrap().to_owned();
    assert!(
        said.contains(&debug_id[..8]),
        "sentry-cli names the file it uploaded: {said}"
    );

    // After it, the stripped crash is named in the background and its issue merged
    // into the unstripped build's: one issue, two events, two users.
    let list = format!("/api/v1/projects/{}/issues", server.project_id);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let live = api(&server, &token, &list).await;
        let live = live["issues"].as_array().unwrap().clone();
        if live.len() == 1 {
            assert_eq!(
                live[0]["culprit"], "axum_app::checkout::apply_coupon",
                "{live:#?}"
            );
            assert_eq!(live[0]["count"], 2, "{live:#?}");
            assert_eq!(live[0]["user_count"], 2, "{live:#?}");
            break;
        }
        assert!(Instant::now() < deadline, "merged: {live:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The stripped crash's frames have their source lines from sentry-cli's bundle.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = events_after(&server, &token, 2).await;
        let stripped_event = events.iter().find(|(_, e)| {
            app_frames(e)
                .iter()
                .any(|f| f["symbolicated"] == true && f["context_line"].is_string())
        });
        if let Some((_, event)) = stripped_event {
            let frames = app_frames(event);
            let culprit = frames.iter().rev().find(|f| f["in_app"] == true).unwrap();
            assert_eq!(
                culprit["context_line"].as_str(),
                Some(source_at(culprit).as_str())
            );
            break;
        }
        assert!(Instant::now() < deadline, "source lines: {events:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
