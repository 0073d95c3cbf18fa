//! The test harness: for each test a fresh database (`helpers/database.rs`: one PostgreSQL
//! server per test process, a migrated template copied for each test) with the app built by
//! `Application::build` (as `cargo run` builds it) on port 0. The verbs tests speak in:
//! `helpers/verbs.rs`; parsed pages: `helpers/page.rs`.

use std::net::SocketAddr;

use sqlx::PgPool;
use std::time::Duration;

use secrecy::SecretString;
use stripe_emulator::StripeEmulator;
use telnyx_emulator::TelnyxEmulator;
use tern::crypto::Cipher;
use tern::services::checkout::Payments;
use tern::services::provisioning::Provisioner;
use tern::startup::{AppOptions, Application};
use tern::worker::{Worker, WorkerConfig};

mod database;
mod mail;
mod page;
mod verbs;
pub use self::database::{fresh_database, scratch_dir};
pub use self::mail::Mail;
pub use self::page::{Page, text_of};
pub use self::verbs::order_cookie;

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where this app serves `/metrics` (`TERN_METRICS_ADDR`).
    pub metrics_addr: SocketAddr,
    pub pool: PgPool,
    pub client: reqwest::Client,
    pub stripe: StripeEmulator,
    pub payments: Payments,
    pub telnyx: TelnyxEmulator,
    pub provisioner: Provisioner,
    /// The development SMTP server the app's mail goes to.
    pub mailbox: tern::startup::DevMailbox,
    /// The state the application's handlers get.
    pub state: tern::http::state::AppState,
    /// The worker the application built (its mailer and webhook deliverer).
    base_worker: Worker,
    worker_config: WorkerConfig,
    /// Dropped with the test app: the application then stops as on SIGTERM.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Asserts that `response` is a problem document with `status`, and returns it.
pub async fn problem_of(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "{}", response.url());
    assert_eq!(response.headers()["content-type"], "application/problem+json", "{}", response.url());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    body
}

/// The app as `cargo run` builds it (`Application::build`, in test mode with both emulators),
/// on a fresh database and port 0. Its job worker is off: tests step jobs with
/// `app.worker().run_once()`.
pub async fn spawn_app() -> TestApp {
    spawn(false).await
}

/// Like `spawn_app`, with `TERN_TRUSTED_PROXIES` set to `proxies` (tests connect from
/// 127.0.0.1, so `127.0.0.1/32` makes the test client a proxy whose `X-Forwarded-For` counts).
pub async fn spawn_app_trusting(proxies: &str) -> TestApp {
    let trusted = tern::domain::client_addr::TrustedProxies::parse(proxies).expect("CIDR blocks");
    spawn_configured(false, move |config| config.trusted_proxies = trusted).await
}

/// Like `spawn_app`, with the job worker run by the application, as in production.
pub async fn spawn_app_with_worker() -> TestApp {
    spawn(true).await
}

/// Like `spawn_app`, with the configuration changed by `edit` first (a public URL, keys...).
pub async fn spawn_app_with(edit: impl FnOnce(&mut tern::config::Config)) -> TestApp {
    spawn_configured(false, edit).await
}

async fn spawn(run_worker: bool) -> TestApp {
    spawn_configured(run_worker, |_| {}).await
}

async fn spawn_configured(run_worker: bool, edit: impl FnOnce(&mut tern::config::Config)) -> TestApp {
    let mut config = tern::config::Config::from_lookup(|_| None).unwrap();
    config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    config.secret_key = Some(SecretString::from(Cipher::generate_key()));
    config.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.shutdown_drain = Duration::ZERO;
    edit(&mut config);
    let options = AppOptions {
        pool: Some(fresh_database().await),
        run_worker,
        worker: fast_worker_config(),
        telnyx_action_delay: Duration::ZERO,
        telnyx_action_polling: Some((Duration::from_millis(10), Duration::from_secs(5))),
        tag_grace: Duration::from_millis(300),
        reconcile_every: None,
        integrity_every: None,
    };
    let application = Application::build(&config, options).await.expect("the application builds");
    let app = TestApp {
        addr: application.address(),
        metrics_addr: application.metrics_address().expect("tests serve metrics"),
        pool: application.pool().clone(),
        client: browser(),
        stripe: application.stripe_emulator().expect("tests use the Stripe emulator").clone(),
        payments: application.payments().clone(),
        telnyx: application.telnyx_emulator().expect("tests use the Telnyx emulator").clone(),
        provisioner: application.provisioner().clone(),
        mailbox: application.dev_mailbox().expect("tests use the development mailbox").clone(),
        state: application.state().clone(),
        base_worker: application.worker(),
        worker_config: application.worker().config,
        _stop: tokio::sync::oneshot::channel().0,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp { _stop: stop, ..app }
}

/// A fresh browser that follows redirects with a cookie jar of its own: what opening an
/// emailed link in another browser does (the link sets the order cookie, then redirects).
pub fn link_opener() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

/// Like [`browser`], with its cookie jar at hand (to hand a session to a real browser).
pub fn browser_with_jar() -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_provider(jar.clone()).build();
    (client.unwrap(), jar)
}

/// Another browser: a cookie jar of its own (no session, no order cookies), redirects not followed.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

/// Worker settings for tests: short backoff and lease.
pub fn fast_worker_config() -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(30),
        max_attempts: 4,
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        idle_poll: Duration::from_millis(50),
        // Email retries fast and long enough to outlast an SMTP server a test takes down.
        email: tern::services::jobs::RetryPolicy {
            max_attempts: 100,
            backoff: tern::services::jobs::Backoff::Exponential {
                base: Duration::from_millis(20),
                max: Duration::from_millis(100),
            },
        },
        ..WorkerConfig::default()
    }
}

impl TestApp {
    /// A worker on this app's database and emulators, for stepping jobs by hand.
    pub fn worker(&self) -> Worker {
        Worker {
            pool: self.pool.clone(),
            provisioner: self.provisioner.clone(),
            mailer: self.base_worker.mailer.clone(),
            webhooks: self.base_worker.webhooks.clone(),
            config: self.worker_config.clone(),
        }
    }

    /// Runs one more worker in the background for the rest of the test, as a second Tern
    /// process sharing the database would.
    pub fn start_extra_worker(&self) {
        tokio::spawn(self.worker().run_until(std::future::pending()));
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// This client's CSRF token (its session is kept in the client's cookie jar).
    pub async fn csrf(&self) -> String {
        self.csrf_on(&self.client).await
    }

    /// `client`'s CSRF token.
    pub async fn csrf_on(&self, client: &reqwest::Client) -> String {
        let page = client.get(self.url("/account/sign-in")).send().await.expect("request");
        let page = Page::parse(&page.text().await.unwrap());
        page.attr("input[name=csrf_token]", "value").expect("a CSRF field")
    }

    /// POSTs a form with this session's CSRF token added.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_on(&self.client, path, form).await
    }

    /// POSTs a form from `client` with its CSRF token added.
    pub async fn post_form_on(&self, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_on(client).await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf_token", &token));
        client.post(self.url(path)).form(&fields).send().await.expect("request")
    }

    /// A user with `role`, signed in on this app's client. Staff go the real way: password,
    /// then MFA enrolment with a code computed by totp-rs from the secret the page shows.
    pub async fn sign_in_as(&self, role: tern::domain::user::Role) -> tern::domain::user::User {
        self.sign_in_on(&self.client, role).await
    }

    /// A user with `role`, signed in on `client` (another browser, from [`browser`]).
    pub async fn sign_in_on(
        &self,
        client: &reqwest::Client,
        role: tern::domain::user::Role,
    ) -> tern::domain::user::User {
        self.sign_in_with_secret_on(client, role).await.0
    }

    /// Like `sign_in_as`; also the staff member's TOTP secret (`None` for a customer).
    pub async fn sign_in_with_secret(
        &self,
        role: tern::domain::user::Role,
    ) -> (tern::domain::user::User, Option<String>) {
        self.sign_in_with_secret_on(&self.client, role).await
    }

    /// Like `sign_in_with_secret`, on `client`.
    pub async fn sign_in_with_secret_on(
        &self,
        client: &reqwest::Client,
        role: tern::domain::user::Role,
    ) -> (tern::domain::user::User, Option<String>) {
        let email = format!("{}-{}@example.com", role.as_str(), uuid::Uuid::new_v4().simple());
        let user = self.create_user(&email, role).await;
        let fields = [("email", email.as_str()), ("password", PASSWORD)];
        let response = self.post_form_on(client, "/account/sign-in", &fields).await;
        assert_eq!(response.status(), 303, "signed in");
        if !role.is_staff() {
            return (user, None);
        }
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/account/mfa"), "staff give a second factor: {location}");
        let secret = self.enrol_mfa_on(client).await;
        (user, Some(secret))
    }

    /// A user with the helpers' password.
    pub async fn create_user(&self, email: &str, role: tern::domain::user::Role) -> tern::domain::user::User {
        let hash = tern::services::accounts::hash_password(PASSWORD.to_string()).await.unwrap();
        tern::db::users::create(&self.pool, email, &hash, role).await.unwrap().unwrap()
    }

    /// Finishes MFA enrolment of the staff member signing in: reads the secret off the page,
    /// sends the current code, and checks the ten recovery codes are shown. Returns the secret.
    pub async fn enrol_mfa(&self) -> String {
        self.enrol_mfa_on(&self.client).await
    }

    /// Like `enrol_mfa`, on `client`.
    pub async fn enrol_mfa_on(&self, client: &reqwest::Client) -> String {
        self.enrol_mfa_with_code_on(client).await.0
    }

    /// Like `enrol_mfa`, also returning the code that finished the enrolment (used once, so
    /// a replay of exactly it can be tried whatever time step the clock is in by then).
    pub async fn enrol_mfa_with_code(&self) -> (String, String) {
        self.enrol_mfa_with_code_on(&self.client).await
    }

    async fn enrol_mfa_with_code_on(&self, client: &reqwest::Client) -> (String, String) {
        let page = client.get(self.url("/account/mfa")).send().await.unwrap();
        assert_eq!(page.status(), 200, "the enrolment page");
        let page = Page::parse(&page.text().await.unwrap());
        assert!(page.attr("img[alt^='QR code']", "src").unwrap().starts_with("data:image/png;base64,"));
        let secret = page.text("#mfa-secret");
        let code = totp_code(&secret, 0);
        let response = self.post_form_on(client, "/account/mfa", &[("code", &code)]).await;
        assert_eq!(response.status(), 200, "enrolled");
        let codes = Page::parse(&response.text().await.unwrap()).texts("#recovery-codes code");
        assert_eq!(codes.len(), 10, "ten recovery codes");
        (secret, code)
    }

    /// GET a page, asserting the status, and return its body.
    pub async fn page(&self, path: &str, status: u16) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        response.text().await.unwrap()
    }

    /// GET JSON, asserting the status.
    pub async fn json(&self, path: &str, status: u16) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        response.json().await.unwrap()
    }

    /// GET an API path that must fail with a problem document; returns it.
    pub async fn problem(&self, path: &str, status: u16) -> serde_json::Value {
        let body = problem_of(self.get(path).await, status).await;
        assert!(body["code"].is_string() && body["title"].is_string() && body["detail"].is_string());
        body
    }
}

/// The password `create_user` and `sign_in_as` give accounts.
pub const PASSWORD: &str = "correct horse battery";

/// The TOTP code of `secret` (base32) `steps_ahead` 30-second steps from now, as an
/// authenticator app computes it (totp-rs, RFC 6238).
pub fn totp_code(secret: &str, steps_ahead: u64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("a base32 secret"))
        .build()
        .expect("a valid TOTP");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    totp.generate(now + 30 * steps_ahead).to_string()
}

/// Waits (bounded) until `check` holds; for effects that arrive asynchronously.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}
