//! Catalogue editing for admins: destinations and plans checked field by field, each write one
//! transaction with its audit-log entry. Triggers announce the change (`NOTIFY
//! catalogue_changed`) and every process reloads its snapshot. The list admins page through
//! is `listing`.

mod input;
mod listing;
mod validate;

use crate::db::Pool;
use crate::db::constraints::Refusal;
use serde_json::{Map, Value, json};
use uuid::Uuid;

pub use self::input::{DestinationInput, PlanInput};
pub use self::listing::{
    CatalogueOverview, DestinationRow, Item, ListView, PER_PAGE, PlanRow, Section, locate, overview,
};
pub use self::validate::parse_price;
pub use super::Operator;
use super::catalogue::{self as catalogue_service, CatalogueStore};
use crate::db;
use crate::domain::{DataAllowance, Destination, Plan};
use crate::error::{Error, Result};

pub async fn create_destination(
    pool: &Pool,
    store: &CatalogueStore,
    editor: &Operator<'_>,
    input: &DestinationInput,
) -> Result<Destination> {
    editor.require_admin("Only an admin may edit the catalogue.")?;
    let destination = validate::destination(input, None, &store.snapshot()).map_err(Error::Invalid)?;
    let mut tx = pool.begin().await?;
    db::catalogue_admin::insert_destination(&mut *tx, &destination).await.map_err(refused)?;
    let details = json!({ "destination": destination_json(&destination) });
    editor.audit(&mut tx, "destination_created", format!("destination:{}", destination.iso), details).await?;
    tx.commit().await?;
    refresh(pool, store).await;
    Ok(destination)
}

/// Edits the destination `iso` (any case); its code stays.
pub async fn update_destination(
    pool: &Pool,
    store: &CatalogueStore,
    editor: &Operator<'_>,
    iso: &str,
    input: &DestinationInput,
) -> Result<Destination> {
    editor.require_admin("Only an admin may edit the catalogue.")?;
    let snapshot = store.snapshot();
    let existing = snapshot.destination(iso).ok_or(Error::NotFound("destination"))?;
    let destination = validate::destination(input, Some(existing), &snapshot).map_err(Error::Invalid)?;
    let mut tx = pool.begin().await?;
    let before = db::catalogue_admin::lock_destination(&mut *tx, &destination.iso)
        .await?
        .ok_or(Error::NotFound("destination"))?;
    db::catalogue_admin::update_destination(&mut *tx, &destination).await.map_err(refused)?;
    let details = json!({ "name": destination.name, "changes": changes(&before, &destination_json(&destination)) });
    editor.audit(&mut tx, "destination_updated", format!("destination:{}", destination.iso), details).await?;
    tx.commit().await?;
    refresh(pool, store).await;
    Ok(destination)
}

pub async fn create_plan(
    pool: &Pool,
    store: &CatalogueStore,
    editor: &Operator<'_>,
    input: &PlanInput,
) -> Result<Plan> {
    editor.require_admin("Only an admin may edit the catalogue.")?;
    let plan = validate::plan(input, Uuid::new_v4(), &store.snapshot()).map_err(Error::Invalid)?;
    let mut tx = pool.begin().await?;
    db::catalogue_admin::insert_plan(&mut *tx, &plan).await.map_err(refused)?;
    db::catalogue_admin::replace_coverage(&mut *tx, plan.id, &plan.coverage).await.map_err(refused)?;
    editor.audit(&mut tx, "plan_created", format!("plan:{}", plan.id), json!({ "plan": plan_json(&plan) })).await?;
    tx.commit().await?;
    refresh(pool, store).await;
    Ok(plan)
}

/// Edits the plan `id` as it appears in a URL (a malformed id is not found).
pub async fn update_plan(
    pool: &Pool,
    store: &CatalogueStore,
    editor: &Operator<'_>,
    id: &str,
    input: &PlanInput,
) -> Result<Plan> {
    editor.require_admin("Only an admin may edit the catalogue.")?;
    let snapshot = store.snapshot();
    let id = catalogue_service::plan(&snapshot, id)?.id;
    let plan = validate::plan(input, id, &snapshot).map_err(Error::Invalid)?;
    let mut tx = pool.begin().await?;
    let before = db::catalogue_admin::lock_plan(&mut *tx, id).await?.ok_or(Error::NotFound("plan"))?;
    db::catalogue_admin::update_plan(&mut *tx, &plan).await.map_err(refused)?;
    db::catalogue_admin::replace_coverage(&mut *tx, id, &plan.coverage).await.map_err(refused)?;
    let details = json!({ "name": plan.name, "changes": changes(&before, &plan_json(&plan)) });
    editor.audit(&mut tx, "plan_updated", format!("plan:{id}"), details).await?;
    tx.commit().await?;
    refresh(pool, store).await;
    Ok(plan)
}

/// The NOTIFY-driven reload follows within milliseconds; reloading here as well means the
/// editor's next page, and the checks of their next edit, already see the change.
async fn refresh(pool: &Pool, store: &CatalogueStore) {
    if let Err(e) = store.reload(pool).await {
        tracing::warn!(error = %e, "catalogue reload after an edit failed; the notified reload will follow");
    }
}

/// A write PostgreSQL refused: a constraint becomes a message beside its field, never a
/// 500; anything else stays an internal error.
fn refused(e: db::DbError) -> Error {
    match db::catalogue_admin::refusal(e) {
        Refusal::Field { field, message } => Error::invalid(field, message),
        Refusal::Constraint(constraint) => {
            tracing::warn!(db.constraint = constraint, "a catalogue edit was refused by a constraint without a field");
            Error::invalid(
                "form",
                "The catalogue changed meanwhile and did not accept this. Reload the page and try again.",
            )
        }
        Refusal::Other(e) => e.into(),
    }
}

/// What an edit changed: `{column: {from, to}}` for every column of `after` that differs.
fn changes(before: &Value, after: &Value) -> Value {
    let mut changed = Map::new();
    if let Value::Object(after) = after {
        for (key, to) in after {
            let from = before.get(key).unwrap_or(&Value::Null);
            if from != to {
                changed.insert(key.clone(), json!({ "from": from, "to": to }));
            }
        }
    }
    Value::Object(changed)
}

/// A destination's columns, named as `db::catalogue_admin::lock_destination` names them.
fn destination_json(d: &Destination) -> Value {
    json!({
        "iso": d.iso,
        "name": d.name,
        "aliases": d.aliases,
        "region_id": d.region_id,
        "popularity_rank": d.popularity_rank,
    })
}

/// A plan's columns and coverage, named as `db::catalogue_admin::lock_plan` names them.
fn plan_json(p: &Plan) -> Value {
    let (data_mb, fair_use_mb, throttle_kbps) = match p.data {
        DataAllowance::Limited { mb } => (Some(mb), None, None),
        DataAllowance::Unlimited { fair_use_mb, throttle_kbps } => (None, Some(fair_use_mb), Some(throttle_kbps)),
    };
    json!({
        "kind": p.kind.as_str(),
        "name": p.name,
        "destination_iso": p.destination_iso,
        "region_id": p.region_id,
        "data_mb": data_mb,
        "fair_use_mb": fair_use_mb,
        "throttle_kbps": throttle_kbps,
        "validity_days": p.validity_days,
        "price_minor": p.price.minor,
        "currency": p.price.currency,
        "validity_start": p.validity_start.as_str(),
        "hotspot": p.hotspot,
        "network_generation": p.network_generation,
        "operators": p.operators,
        "top_up": p.top_up,
        "on_sale": p.on_sale,
        "sim_card_group_id": p.sim_card_group_id,
        "fine_print": p.fine_print,
        "coverage": p.coverage,
    })
}
