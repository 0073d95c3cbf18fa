//! Two Tern processes (the real binary, twice) on one database and one pair of provider
//! emulators, behind no proxy: both serve and both work. A purchase through each; a catalogue
//! edit seen by both; jobs split between them; one killed (SIGKILL) mid-job and the other
//! finishing its work with no second eSIM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stripe_emulator::{StripeEmulator, StripeEmulatorConfig};
use telnyx_emulator::{Fault, Target, TelnyxEmulator, TelnyxEmulatorConfig};
use tern::startup::{STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET, TELNYX_API_KEY};

use sqlx::PgPool;

use crate::helpers::{fresh_database, scratch_dir};

/// A `postgres://` URL for the test database behind `pool` (a socket directory or a host).
fn database_url(pool: &PgPool) -> String {
    let o = pool.connect_options();
    let host = match o.get_socket() {
        Some(dir) => dir.display().to_string(),
        None => o.get_host().to_string(),
    };
    let db = o.get_database().expect("a database name");
    format!("postgres://{}@localhost:{}/{db}?host={host}", o.get_username(), o.get_port())
}

struct Instance {
    base: String,
    log: PathBuf,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(dir: &Path, name: &str, db: &str, stripe: &StripeEmulator, telnyx: &TelnyxEmulator) -> Instance {
    let port = free_port();
    let log = dir.join(format!("{name}.log"));
    let data = dir.join(name);
    std::fs::create_dir_all(&data).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .env("DATABASE_URL", db)
        .env("TERN_DATA_DIR", &data)
        .env("TERN_ADDR", format!("127.0.0.1:{port}"))
        // One key for both, as production has.
        .env("TERN_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
        .env("STRIPE_SECRET_KEY", STRIPE_API_KEY)
        .env("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET)
        .env("STRIPE_API_BASE", stripe.base_url())
        .env("TELNYX_API_KEY", TELNYX_API_KEY)
        .env("TELNYX_API_BASE", telnyx.base_url())
        .env("TERN_WORKER_CONCURRENCY", "1")
        // Some fifteen orders from one address: the write limit is not what this test is about.
        .env("TERN_API_WRITES_PER_MINUTE", "1000")
        .env("TERN_LOG_FORMAT", "json")
        .env("TERN_SHUTDOWN_DRAIN_SECONDS", "0")
        .env("RUST_LOG", "info,sqlx=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("the tern binary starts");
    Instance { base: format!("http://127.0.0.1:{port}"), log, child }
}

async fn wait_ready(client: &reqwest::Client, instance: &mut Instance) {
    for _ in 0..900 {
        if let Ok(r) = client.get(format!("{}/readyz", instance.base)).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(instance.child.try_wait().unwrap().is_none(), "{} exited during start-up", instance.base);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} did not become ready", instance.base);
}

/// Orders a plan through `instance`'s API and pays at the emulator: (order id, token).
async fn buy(client: &reqwest::Client, instance: &Instance, stripe: &StripeEmulator, plan: &str) -> (String, String) {
    let created: Value = client
        .post(format!("{}/api/v1/orders", instance.base))
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "plan_id": plan, "email": "two.instances@example.com" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap_or_else(|| panic!("an order: {created}")).to_string();
    let session = created["checkout_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    stripe.pay(&session).await.unwrap();
    (id, created["access_token"].as_str().unwrap().to_string())
}

async fn wait_status(pool: &PgPool, id: &str, status: &str, within: Duration) {
    let id = uuid::Uuid::parse_str(id).unwrap();
    let deadline = Instant::now() + within;
    loop {
        let now: String =
            sqlx::query_scalar("select status::text from orders where id = $1").bind(id).fetch_one(pool).await.unwrap();
        if now == status {
            return;
        }
        assert!(Instant::now() < deadline, "order {id} is {now}, not {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The orders whose job lines `instance` logged.
fn jobs_logged(instance: &Instance, orders: &[String]) -> Vec<String> {
    let logs = std::fs::read_to_string(&instance.log).unwrap_or_default();
    let job_lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["span"]["name"] == "job")
        .collect();
    orders.iter().filter(|id| job_lines.iter().any(|l| l["span"]["order.id"] == id.as_str())).cloned().collect()
}

#[tokio::test]
async fn two_processes_share_one_database_and_survive_one_being_killed() {
    tern::startup::install_crypto_provider();
    let pool = fresh_database().await;
    let db = database_url(&pool);
    let stripe = StripeEmulator::start(StripeEmulatorConfig {
        api_key: STRIPE_API_KEY.into(),
        webhook_secret: STRIPE_WEBHOOK_SECRET.into(),
    })
    .await
    .unwrap();
    let telnyx = TelnyxEmulator::start(TelnyxEmulatorConfig {
        api_key: TELNYX_API_KEY.into(),
        action_delay: Duration::ZERO,
        inventory: None,
    })
    .await
    .unwrap();
    let dir = scratch_dir("two-instances");
    let client = reqwest::Client::new();
    let mut a = start(dir.path(), "a", &db, &stripe, &telnyx);
    let mut b = start(dir.path(), "b", &db, &stripe, &telnyx);
    wait_ready(&client, &mut a).await;
    wait_ready(&client, &mut b).await;
    stripe.set_webhook_url(format!("{}/webhooks/stripe", a.base));

    let plans: Value =
        client.get(format!("{}/api/v1/plans?per_page=1", a.base)).send().await.unwrap().json().await.unwrap();
    let plan = plans["data"][0]["id"].as_str().unwrap().to_string();

    // A purchase through each.
    let (through_a, _) = buy(&client, &a, &stripe, &plan).await;
    let (through_b, token_b) = buy(&client, &b, &stripe, &plan).await;
    wait_status(&pool, &through_a, "ready", Duration::from_secs(30)).await;
    wait_status(&pool, &through_b, "ready", Duration::from_secs(30)).await;
    let read_on_a = client.get(format!("{}/api/v1/orders/{through_b}", a.base)).bearer_auth(&token_b).send().await;
    assert_eq!(read_on_a.unwrap().status(), 200, "an order bought through B reads on A");

    // A catalogue edit (committed once, as an admin save would be) reaches both snapshots.
    let price = |base: String| {
        let client = client.clone();
        let plan = plan.clone();
        async move {
            let p: Value =
                client.get(format!("{base}/api/v1/plans/{plan}")).send().await.unwrap().json().await.unwrap();
            p["price"]["amount_minor"].as_i64().unwrap_or_else(|| panic!("{p}"))
        }
    };
    let before = price(b.base.clone()).await;
    sqlx::query("update plans set price_minor = price_minor + 100 where id = $1::uuid")
        .bind(&plan)
        .execute(&pool)
        .await
        .unwrap();
    let edited = Instant::now();
    for base in [a.base.clone(), b.base.clone()] {
        while price(base.clone()).await != before + 100 {
            assert!(edited.elapsed() < Duration::from_secs(10), "{base} never saw the edit");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    eprintln!("the catalogue edit was visible on both instances after {:?}", edited.elapsed());

    // Jobs split: each process runs one job at a time, each purchase takes 300 ms.
    telnyx.inject(Target::Purchase, Fault::Hang(Duration::from_millis(300)), 12);
    let mut batch = Vec::new();
    for n in 0..12 {
        let via = if n % 2 == 0 { &a } else { &b };
        batch.push(buy(&client, via, &stripe, &plan).await.0);
    }
    for id in &batch {
        wait_status(&pool, id, "ready", Duration::from_secs(60)).await;
    }
    let (on_a, on_b) = (jobs_logged(&a, &batch), jobs_logged(&b, &batch));
    assert!(!on_a.is_empty() && !on_b.is_empty(), "both worked: A {} jobs, B {} jobs", on_a.len(), on_b.len());

    // One killed mid-job: its purchase hangs, the process dies, the other one takes the job
    // over when the lease runs out and adopts the SIM the dead one's call bought.
    telnyx.inject(Target::Purchase, Fault::Hang(Duration::from_secs(5)), 1);
    let (victim_order, _) = buy(&client, &a, &stripe, &plan).await;
    let order = [victim_order.clone()];
    let started = Instant::now();
    let holder = loop {
        if !jobs_logged(&a, &order).is_empty() {
            break "a";
        }
        if !jobs_logged(&b, &order).is_empty() {
            break "b";
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no process took the job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (victim, survivor) = if holder == "a" { (&mut a, &mut b) } else { (&mut b, &mut a) };
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    wait_status(&pool, &victim_order, "ready", Duration::from_secs(120)).await;
    let tag = format!("tern-order-{}", uuid::Uuid::parse_str(&victim_order).unwrap().simple());
    let sims =
        telnyx.sims().into_iter().filter(|s| s["tags"].as_array().is_some_and(|t| t.contains(&json!(tag)))).count();
    assert_eq!(sims, 1, "one eSIM for the order, bought once");
    assert_eq!(jobs_logged(survivor, &order), order, "the survivor finished the job");
    survivor.child.kill().unwrap();
    survivor.child.wait().unwrap();
}
