//! Two-factor sign-in as a person goes through it, with codes computed here as an
//! authenticator app would (RFC 6238): set up with the page's key, confirmed, asked for
//! at sign-in, each code once, recovery codes once, wrong codes throttled, required for
//! everyone when the instance says so, removed by `user reset-2fa`.

use crate::common;

use crate::common::{TestServer, client, csrf_in, page, post_form, post_preauth};
use reqwest::StatusCode;

/// The code an app shows for base32 `key` at `unix_seconds`.
fn code_at(key: &str, unix_seconds: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(key).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name("jane@example.com")
        .build()
        .unwrap()
        .generate(unix_seconds)
        .to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The password step: the pending session's cookie and where it was sent.
async fn password_step(server: &TestServer) -> (StatusCode, String, String) {
    let response = post_preauth(
        server,
        "/login",
        &[
            ("email", "jane@example.com"),
            ("password", "correct horse battery"),
        ],
        &[],
    )
    .await;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mayday_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, cookie)
}

/// The code step with the pending `cookie`: status, the full session's cookie.
async fn code_step(server: &TestServer, cookie: &str, code: &str) -> (StatusCode, String) {
    let (_, form) = page(server, cookie, "/login/code").await;
    let response = client()
        .post(format!("{}/login/code", server.base))
        .header("cookie", cookie)
        .form(&[("csrf", csrf_in(&form).as_str()), ("code", code)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let full = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mayday_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .unwrap_or_default();
    (status, full)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_up_sign_in_with_codes_and_recover() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server.token("jane@example.com", false).await;
    let cookie = common::sign_in(&server, "jane@example.com", "correct horse battery").await;
    let path = "/account/two-factor";
    let (_, before) = page(&server, &cookie, path).await;
    assert!(before.contains("Set up two-factor sign-in"));
    let started = post_form(&server, &cookie, path, path, &[("action", "start")]).await;
    assert_eq!(started.status(), StatusCode::OK);
    let html = started.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("Scan this with your authenticator app"));
    let key: String = html
        .split("<code class=\"key\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the key to type")
        .replace(' ', "");
    // A wrong code is refused, naming what to type; the right one turns it on and shows
    // ten recovery codes once.
    let wrong = post_form(
        &server,
        &cookie,
        path,
        path,
        &[("action", "confirm"), ("code", "000000")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("That code is not right")
    );
    let code = code_at(&key, now());
    let confirmed = post_form(
        &server,
        &cookie,
        path,
        path,
        &[("action", "confirm"), ("code", &code)],
    )
    .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let html = confirmed.text().await.unwrap();
    let recovery: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split("</code>").next().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10, "{html}");
    let (_, again) = page(&server, &cookie, path).await;
    assert!(
        again.contains("10 left") && !again.contains(&recovery[0]),
        "shown once"
    );

    // Signing in: the password opens only the code page.
    let (status, location, pending) = password_step(&server).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/login/code"), "{location}");
    let (status, _) = page(&server, &pending, "/").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "nothing else before the code"
    );
    // The code used to confirm does not work twice; the next one does.
    let (status, _) = code_step(&server, &pending, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let next = code_at(&key, now() + 30);
    let (status, full) = code_step(&server, &pending, &next).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, home) = page(&server, &full, "/").await;
    assert_eq!(status, StatusCode::OK, "{home}");
    let (status, _) = page(&server, &pending, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the pending token is void");

    // A recovery code signs in once.
    let (_, _, pending) = password_step(&server).await;
    let (status, _) = code_step(&server, &pending, &recovery[0].to_uppercase()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, pending) = password_step(&server).await;
    let (status, _) = code_step(&server, &pending, &recovery[0]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "used up");

    // Wrong codes in a row are throttled like passwords.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(code_step(&server, &pending, "123456").await.0);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );

    // A lost phone: the command line removes the second factor.
    let (ok, _, err) = common::command(
        &db.url,
        &["user", "reset-2fa", "--email", "jane@example.com"],
    );
    assert!(ok && err.contains("removed"), "{err}");
    let jane = server
        .state
        .store
        .account_by_email("jane@example.com")
        .await
        .unwrap();
    assert!(!jane.has_two_factor() && jane.totp_secret.is_none());
    assert_eq!(
        server
            .state
            .store
            .unused_recovery_codes(jane.id)
            .await
            .unwrap(),
        0
    );
    let (status, _) = page(&server, &full, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "its sessions ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_can_require_it_of_everyone() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--require-two-factor"]).await;
    server.token("jane@example.com", false).await;
    let cookie = common::sign_in(&server, "jane@example.com", "correct horse battery").await;
    let response = client()
        .get(format!("{}/", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/account/two-factor");
    let (status, html) = page(&server, &cookie, "/account/two-factor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("asks everyone to sign in with a second factor"));
}
