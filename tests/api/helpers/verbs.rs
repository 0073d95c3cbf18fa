//! What tests do to the shop, as `TestApp` verbs: pick a plan, buy it, pay, wait for the
//! order to move, sign in, and read an order's status and events.

use tern::worker::JobResult;
use uuid::Uuid;

use super::{TestApp, eventually};

impl TestApp {
    /// An on-sale plan's id and price.
    pub async fn some_plan(&self) -> (String, i64) {
        let plan = self.json("/api/v1/plans?destination=jp&type=local&per_page=1", 200).await["data"][0].clone();
        (plan["id"].as_str().unwrap().to_string(), plan["price"]["amount_minor"].as_i64().unwrap())
    }

    /// Goes through the form to Stripe; returns (order id, access token, session id).
    pub async fn buy_plan(&self, plan_id: &str) -> (Uuid, String, String) {
        let path = format!("/plans/{plan_id}/checkout");
        let response =
            self.post_form(&path, &[("email", "ana@example.com"), ("device_confirmed", "on"), ("step", "pay")]).await;
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(!location.contains("token="), "no token in the URL to Stripe");
        assert!(location.starts_with(&self.stripe.base_url()), "to the (emulated) Stripe page: {location}");
        let session_id = location.rsplit('/').next().unwrap().to_string();
        assert!(session_id.starts_with("cs_test_"));
        let (id,): (Uuid,) = sqlx::query_as("select id from orders where stripe_session_id = $1")
            .bind(&session_id)
            .fetch_one(&self.pool)
            .await
            .unwrap();
        (id, order_cookie(&response).expect("checkout sets the order's access cookie"), session_id)
    }

    /// The order page through a link with the token (as emailed): it sets the access cookie and
    /// redirects to the clean URL, which this client then opens; returns the page.
    pub async fn order_page(&self, id: Uuid, token: &str, query: &str) -> String {
        let link = self.get(&format!("/orders/{id}?token={token}{query}")).await;
        assert_eq!(link.status(), 303, "a link with the token redirects");
        let clean = link.headers()["location"].to_str().unwrap().to_string();
        assert!(!clean.contains("token="), "to the clean URL: {clean}");
        self.page(&clean, 200).await
    }

    /// Pays the Checkout session on the (emulated) Stripe page.
    pub async fn pay(&self, session_id: &str) {
        self.stripe.pay(session_id).await.unwrap();
    }

    /// A paid order (webhooks delivered, provisioning queued): (id, access token).
    pub async fn paid_order(&self) -> (Uuid, String) {
        let (plan_id, _) = self.some_plan().await;
        self.paid_order_of(&plan_id).await
    }

    /// A paid order of `plan_id`: (id, access token).
    pub async fn paid_order_of(&self, plan_id: &str) -> (Uuid, String) {
        let (id, token, session_id) = self.buy_plan(plan_id).await;
        self.pay(&session_id).await;
        self.wait_status(id, "paid").await;
        self.stripe.wait_for_deliveries().await;
        (id, token)
    }

    /// A ready order (paid, its eSIM bought by one worker step).
    pub async fn ready_order(&self) -> Uuid {
        let (plan_id, _) = self.some_plan().await;
        self.ready_order_of(&plan_id).await
    }

    /// The order's Stripe payment intent (set once it is paid).
    pub async fn payment_intent(&self, id: Uuid) -> String {
        sqlx::query_scalar("select stripe_payment_intent_id from orders where id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Runs every due job of `kinds` now, as the worker would; how many ran.
    pub async fn run_due(&self, kinds: &'static [&'static str]) -> usize {
        let mut worker = self.worker();
        worker.config.kinds = tern::services::jobs::JobKinds::Only(kinds);
        let mut ran = 0;
        while worker.run_once().await.unwrap().is_some() {
            ran += 1;
        }
        ran
    }

    /// A ready order of `plan_id`.
    pub async fn ready_order_of(&self, plan_id: &str) -> Uuid {
        let (id, _) = self.paid_order_of(plan_id).await;
        assert_eq!(self.worker().run_once().await.unwrap().unwrap().1, JobResult::Done);
        id
    }

    pub async fn status(&self, id: Uuid) -> String {
        sqlx::query_scalar("select status::text from orders where id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Waits (bounded) until the order has `expected` status.
    pub async fn wait_status(&self, id: Uuid, expected: &str) {
        eventually(&format!("the order is {expected}"), || async { self.status(id).await == expected }).await;
    }

    /// Waits (bounded) until the order's eSIM is ready.
    pub async fn wait_ready(&self, id: Uuid) {
        self.wait_status(id, "ready").await;
    }

    /// How many `kind` events the order has.
    pub async fn event_count(&self, id: Uuid, kind: &str) -> i64 {
        sqlx::query_scalar("select count(*) from order_events where order_id = $1 and type = $2")
            .bind(id)
            .bind(kind)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// How much of the order has been refunded, in minor units.
    pub async fn refunded_minor(&self, id: Uuid) -> i64 {
        sqlx::query_scalar("select refunded_minor from orders where id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// The value of the `tern_order` cookie a response sets (the access token, or a grant).
pub fn order_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("tern_order=").map(|rest| rest.split(';').next().unwrap_or_default().to_string()))
}
