//! Email's tables: the development mailbox, the order-link tokens minted for emails, the
//! orders of an address, an order's corrected address and its "undeliverable" flag.

use sqlx::PgExecutor;
use uuid::Uuid;

/// One message the development SMTP server received.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredMessage {
    pub id: i64,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub raw: Vec<u8>,
    pub received_at: time::OffsetDateTime,
}

pub async fn store_message(
    executor: impl PgExecutor<'_>,
    mail_from: &str,
    rcpt_to: &[String],
    raw: &[u8],
) -> sqlx::Result<i64> {
    sqlx::query_scalar("insert into dev_mailbox (mail_from, rcpt_to, raw) values ($1, $2, $3) returning id")
        .bind(mail_from)
        .bind(rcpt_to)
        .bind(raw)
        .fetch_one(executor)
        .await
}

/// The newest messages first (at most `limit`).
pub async fn messages(executor: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<StoredMessage>> {
    sqlx::query_as(
        "select id, mail_from, rcpt_to, raw, received_at from dev_mailbox order by received_at desc, id desc limit $1",
    )
    .bind(limit)
    .fetch_all(executor)
    .await
}

pub async fn message(executor: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<StoredMessage>> {
    sqlx::query_as("select id, mail_from, rcpt_to, raw, received_at from dev_mailbox where id = $1")
        .bind(id)
        .fetch_optional(executor)
        .await
}

/// Stores the digest of a new order-link token for an email.
pub async fn insert_link_token(executor: impl PgExecutor<'_>, order_id: Uuid, digest: &[u8]) -> sqlx::Result<()> {
    sqlx::query("insert into order_link_tokens (token_sha256, order_id) values ($1, $2)")
        .bind(digest)
        .bind(order_id)
        .execute(executor)
        .await
        .map(|_| ())
}

/// Whether `digest` is an email link token of the order.
pub async fn link_token_matches(executor: impl PgExecutor<'_>, order_id: Uuid, digest: &[u8]) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists(select 1 from order_link_tokens where token_sha256 = $1 and order_id = $2)")
        .bind(digest)
        .bind(order_id)
        .fetch_one(executor)
        .await
}

/// The ids of an address's orders, newest first (at most 50), paid or not.
pub async fn order_ids_for_email(executor: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("select id from orders where lower(email) = lower($1) order by created_at desc limit 50")
        .bind(email)
        .fetch_all(executor)
        .await
}

/// Guest orders of an address not yet in any account: attached to `user_id`. Their ids.
pub async fn claim_guest_orders(executor: impl PgExecutor<'_>, email: &str, user_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("update orders set user_id = $2, updated_at = now() where lower(email) = lower($1) and user_id is null returning id")
        .bind(email)
        .bind(user_id)
        .fetch_all(executor)
        .await
}

/// Replaces the order's address (an operator's correction) and clears its undeliverable flag.
pub async fn set_order_email(executor: impl PgExecutor<'_>, order_id: Uuid, email: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("update orders set email = $2, email_undeliverable = false, updated_at = now() where id = $1")
            .bind(order_id)
            .bind(email)
            .execute(executor)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks (or clears) the order's address as refused for good by the SMTP server. A flag that
/// already says so is not written again (every sent email clears it: no new row version).
pub async fn set_undeliverable(executor: impl PgExecutor<'_>, order_id: Uuid, undeliverable: bool) -> sqlx::Result<()> {
    sqlx::query(
        "update orders set email_undeliverable = $2, updated_at = now() where id = $1 and email_undeliverable <> $2",
    )
    .bind(order_id)
    .bind(undeliverable)
    .execute(executor)
    .await
    .map(|_| ())
}

/// How many events of these kinds the order has (what makes a repeated message's key unique).
pub async fn count_events(executor: impl PgExecutor<'_>, order_id: Uuid, kinds: &[&str]) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from order_events where order_id = $1 and type = any($2)")
        .bind(order_id)
        .bind(kinds)
        .fetch_one(executor)
        .await
}
