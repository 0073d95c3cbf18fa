//! `tern rotate-key`: every sealed value (activation codes, kept API answers) sealed again with
//! the first key of `TERN_SECRET_KEYS`. In batches, each committed on its own, and only values
//! not yet on the current key are read: an interrupted run is simply started again.

use uuid::Uuid;

use crate::crypto::Cipher;
use crate::db::{self, Pool};
use crate::error::Result;
use crate::services::idempotency;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RotationReport {
    pub activation_codes: u64,
    pub idempotent_answers: u64,
    pub batches: u64,
}

/// Re-seals everything with the current key, `batch` rows per transaction.
pub async fn rotate_all(pool: &Pool, cipher: &Cipher, batch: i64) -> Result<RotationReport> {
    let mut report = RotationReport::default();
    let header = cipher.current_header();
    let mut after: Option<Uuid> = None;
    loop {
        let mut tx = pool.begin().await?;
        let rows = db::sealed::activation_codes(&mut *tx, after, &header, batch).await?;
        let Some((last, _)) = rows.last() else { break };
        after = Some(*last);
        for (order_id, sealed) in &rows {
            let resealed =
                cipher.reseal(sealed, order_id.as_bytes()).map_err(|e| undecryptable("order", order_id, e))?;
            if let Some(resealed) = resealed {
                db::sealed::set_activation_code(&mut *tx, *order_id, &resealed).await?;
                report.activation_codes += 1;
            }
        }
        tx.commit().await?;
        report.batches += 1;
        tracing::info!(rotated = report.activation_codes, "activation codes re-encrypted so far");
    }
    let mut after: Option<(String, String)> = None;
    loop {
        let mut tx = pool.begin().await?;
        let rows = db::sealed::idempotent_answers(&mut *tx, after.clone(), &header, batch).await?;
        let Some((scope, key, _)) = rows.last() else { break };
        after = Some((scope.clone(), key.clone()));
        for (scope, key, sealed) in &rows {
            let aad = idempotency::associated_data(scope, key);
            let resealed = cipher.reseal(sealed, &aad).map_err(|e| undecryptable("idempotency key", key, e))?;
            if let Some(resealed) = resealed {
                db::sealed::set_idempotent_answer(&mut *tx, scope, key, &resealed).await?;
                report.idempotent_answers += 1;
            }
        }
        tx.commit().await?;
        report.batches += 1;
    }
    Ok(report)
}

fn undecryptable(what: &str, id: &dyn std::fmt::Display, e: crate::crypto::CryptoError) -> crate::error::Error {
    crate::error::Error::Internal(anyhow::anyhow!(
        "the sealed value of {what} {id} cannot be opened ({e}): is the key that sealed it missing from \
         TERN_SECRET_KEYS? Batches before this one are done; run again once the key is listed"
    ))
}
