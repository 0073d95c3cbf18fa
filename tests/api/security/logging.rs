//! ASVS V7: the client address logged only from trusted proxies' headers, and refusals logged
//! at warn without the token.

use crate::helpers::{TestApp, spawn_app, spawn_app_trusting};
use std::sync::{Arc, Mutex, OnceLock};
use tern::domain::user::Role;

async fn failed_sign_in_ip(app: &TestApp, headers: &[(&str, &str)]) -> Option<String> {
    let token = app.csrf().await;
    let mut request = app.client.post(app.url("/account/sign-in"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let form = [("email", "x@example.com"), ("password", "wrong wrong"), ("csrf_token", &token)];
    assert_eq!(request.form(&form).send().await.unwrap().status(), 200);
    sqlx::query_scalar("select ip from audit_log where action = 'sign_in_failed' order by id desc limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn v7_forwarding_headers_count_only_from_trusted_proxies() {
    let untrusting = spawn_app().await;
    let spoofed = failed_sign_in_ip(&untrusting, &[("x-forwarded-for", "198.51.100.7")]).await;
    assert_eq!(spoofed.as_deref(), Some("127.0.0.1"), "a client cannot choose its own address");

    let behind_proxy = spawn_app_trusting("127.0.0.1/32, 10.0.0.0/8").await;
    let ip = failed_sign_in_ip(&behind_proxy, &[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.2.3")]).await;
    assert_eq!(ip.as_deref(), Some("198.51.100.7"), "the first hop that is not ours");
    let ip = failed_sign_in_ip(&behind_proxy, &[("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=https"#)]).await;
    assert_eq!(ip.as_deref(), Some("2001:db8:cafe::17"));
}

// ---- V7.2: access-control failures are logged ----------------------------------------------

/// Everything logged at warn and above in this test process.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let writer = move || Sink(sink.clone());
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(writer)
            .try_init()
            .expect("no other subscriber in the test process");
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn v7_2_403s_and_wrong_token_404s_are_logged_at_warn_without_the_token() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (order, _, _) = app.buy_plan(&plan_id).await;
    let guessed = "GuessedTokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(app.get(&format!("/orders/{order}?token={guessed}")).await.status(), 404);
    let api = app.client.get(app.url(&format!("/api/v1/orders/{order}"))).bearer_auth(guessed).send().await.unwrap();
    assert!(api.status() == 404 || api.status() == 401, "{}", api.status());
    app.sign_in_as(Role::Customer).await;
    assert_eq!(app.get("/admin/audit").await.status(), 403);

    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("access refused")).collect();
    let order_line = lines.iter().find(|l| l.contains(&format!("/orders/{order}"))).expect("the wrong token is logged");
    assert!(order_line.contains("WARN") && order_line.contains("http.status=404"), "{order_line}");
    assert!(order_line.contains("client.ip=127.0.0.1"), "{order_line}");
    let forbidden = lines.iter().find(|l| l.contains("/admin/audit")).expect("the 403 is logged");
    assert!(forbidden.contains("http.status=403") && forbidden.contains("client.ip=127.0.0.1"), "{forbidden}");
    assert!(!text.contains(guessed), "never the token");
}
