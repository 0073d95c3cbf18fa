//! The integrity report over the JSON API: who may read and run it, and who may apply a fix
//! (an admin in person, never an API key).

use tern::domain::user::Role;
use tern::services::integrity;
use tern::worker::JobResult;
use uuid::Uuid;

use crate::helpers::{TestApp, problem_of, spawn_app};
use crate::integrity::{audited, failed_order};

/// A bearer token for a new user with `role`, from `POST /api/v1/auth/token`.
async fn token_for(app: &TestApp, role: Role) -> String {
    let email = format!("{}-{}@example.com", role.as_str(), Uuid::new_v4().simple());
    let hash = tern::services::accounts::hash_password("correct horse battery".into()).await.unwrap();
    tern::db::users::create(&app.pool, &email, &hash, role).await.unwrap().unwrap();
    let body = serde_json::json!({ "email": email, "password": "correct horse battery" });
    let response = app.client.post(app.url("/api/v1/auth/token")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_api_serves_admin_tokens_and_admin_keys_and_fixes_only_for_admins_in_person() {
    let app = spawn_app().await;
    let id = failed_order(&app).await;
    let url = app.url("/api/v1/admin/integrity");
    problem_of(app.client.get(&url).send().await.unwrap(), 401).await;
    for role in [Role::Customer, Role::Support] {
        let token = token_for(&app, role).await;
        let refused = problem_of(app.client.get(&url).bearer_auth(&token).send().await.unwrap(), 403).await;
        assert_eq!(refused["code"], "forbidden");
        let run = app.client.post(format!("{url}/runs")).bearer_auth(&token).send().await.unwrap();
        problem_of(run, 403).await;
    }
    let integrator = crate::webhooks_receiver::api_key(&app, tern::domain::webhook::KeyRole::Integrator).await;
    problem_of(app.client.get(&url).bearer_auth(&integrator).send().await.unwrap(), 403).await;
    assert!(integrity::report(&app.pool).await.unwrap().run.is_none(), "refused calls ran nothing");

    // A monitoring system with an admin API key reads and runs the report, but fixes nothing.
    let monitor = crate::webhooks_receiver::api_key(&app, tern::domain::webhook::KeyRole::Admin).await;
    let read = app.client.get(&url).bearer_auth(&monitor).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let ran = app.client.post(format!("{url}/runs")).bearer_auth(&monitor).send().await.unwrap();
    let ran: serde_json::Value = ran.json().await.unwrap();
    let finding = ran["findings"][0]["key"].as_str().unwrap().to_string();
    let fix = serde_json::json!({ "finding": finding });
    let by_key = app.client.post(format!("{url}/fixes")).bearer_auth(&monitor).json(&fix).send().await.unwrap();
    assert!(problem_of(by_key, 403).await["detail"].as_str().unwrap().contains("in person"));
    assert_eq!(app.status(id).await, "provisioning_failed", "the refused fix changed nothing");

    let admin = token_for(&app, Role::Admin).await;
    let latest: serde_json::Value =
        app.client.get(&url).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(latest["run"]["trigger"], "operator", "the monitor's run is the latest");
    let ran = app.client.post(format!("{url}/runs")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(ran.status(), 200);
    let report: serde_json::Value = ran.json().await.unwrap();
    assert_eq!(report["run"]["trigger"], "operator");
    let failed = report["counts"].as_array().unwrap().iter().find(|c| c["kind"] == "provisioning_failed").unwrap();
    assert_eq!(failed["count"], 1);
    let key = report["findings"][0]["key"].as_str().unwrap().to_string();
    assert_eq!(report["findings"][0]["fix"], "retry_provisioning");

    // A fix without a finding names the field and changes nothing.
    let fixes = format!("{url}/fixes");
    let bad = app.client.post(&fixes).bearer_auth(&admin).json(&serde_json::json!({})).send().await.unwrap();
    let bad = problem_of(bad, 422).await;
    assert!(bad.to_string().contains("finding"), "{bad}");
    let done = app.client.post(&fixes).bearer_auth(&admin).json(&serde_json::json!({ "finding": key })).send().await;
    let done: serde_json::Value = done.unwrap().json().await.unwrap();
    assert_eq!(done["fix"], "retry_provisioning", "{done}");
    assert_eq!(audited(&app, "integrity.retry_provisioning", &format!("order:{id}")).await, 1);
    assert_eq!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
    let again = app.client.post(&fixes).bearer_auth(&admin).json(&serde_json::json!({ "finding": key })).send().await;
    problem_of(again.unwrap(), 404).await;
}
