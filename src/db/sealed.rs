//! The columns that hold values sealed with `crypto::Cipher`, read and rewritten in batches by
//! key rotation (`services::key_rotation`). Each batch is read in key order after a cursor and
//! locked; only values not yet sealed with the current key (their 6-byte header differs) are read.

use sqlx::PgExecutor;
use uuid::Uuid;

/// Activation codes after `after` (by order id) whose header is not `current`, locked.
pub async fn activation_codes(
    executor: impl PgExecutor<'_>,
    after: Option<Uuid>,
    current: &[u8],
    limit: i64,
) -> sqlx::Result<Vec<(Uuid, Vec<u8>)>> {
    sqlx::query_as(
        "select order_id, activation_code_sealed from esims
          where activation_code_sealed is not null
            and ($1::uuid is null or order_id > $1)
            and substring(activation_code_sealed from 1 for 6) is distinct from $2
          order by order_id limit $3
          for update",
    )
    .bind(after)
    .bind(current)
    .bind(limit)
    .fetch_all(executor)
    .await
}

pub async fn set_activation_code(executor: impl PgExecutor<'_>, order_id: Uuid, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query("update esims set activation_code_sealed = $2, updated_at = now() where order_id = $1")
        .bind(order_id)
        .bind(sealed)
        .execute(executor)
        .await
        .map(|_| ())
}

/// Kept API answers after `after` (by scope, key) whose header is not `current`, locked.
pub async fn idempotent_answers(
    executor: impl PgExecutor<'_>,
    after: Option<(String, String)>,
    current: &[u8],
    limit: i64,
) -> sqlx::Result<Vec<(String, String, Vec<u8>)>> {
    let (scope, key) = after.unzip();
    sqlx::query_as(
        "select scope, key, body_sealed from api_idempotency
          where body_sealed is not null
            and ($1::text is null or (scope, key) > ($1, $2))
            and substring(body_sealed from 1 for 6) is distinct from $3
          order by scope, key limit $4
          for update",
    )
    .bind(scope)
    .bind(key)
    .bind(current)
    .bind(limit)
    .fetch_all(executor)
    .await
}

pub async fn set_idempotent_answer(
    executor: impl PgExecutor<'_>,
    scope: &str,
    key: &str,
    sealed: &[u8],
) -> sqlx::Result<()> {
    sqlx::query("update api_idempotency set body_sealed = $3 where scope = $1 and key = $2")
        .bind(scope)
        .bind(key)
        .bind(sealed)
        .execute(executor)
        .await
        .map(|_| ())
}
