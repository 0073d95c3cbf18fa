//! Writing the catalogue: destinations, plans and their coverage, as edited by admins.
//!
//! Every statement fires the `catalogue_changed` triggers, so the in-memory snapshots of every
//! Tern process reload once the transaction commits.

use sqlx::PgExecutor;

use super::constraints::{Refusal, on_constraint};
use uuid::Uuid;

use crate::domain::{DataAllowance, Destination, Plan};

/// A `u32` the domain has already bounded, as the `integer` column it is stored in.
fn int(value: u32) -> sqlx::Result<i32> {
    i32::try_from(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

pub async fn insert_destination(executor: impl PgExecutor<'_>, d: &Destination) -> sqlx::Result<()> {
    sqlx::query("insert into destinations (iso, name, aliases, region_id, popularity_rank) values ($1, $2, $3, $4, $5)")
        .bind(&d.iso)
        .bind(&d.name)
        .bind(&d.aliases)
        .bind(&d.region_id)
        .bind(d.popularity_rank)
        .execute(executor)
        .await
        .map(|_| ())
}

/// Locks a destination for the rest of the transaction; its columns as JSON (for the audit
/// log's before/after), or `None` when there is no such destination.
pub async fn lock_destination(executor: impl PgExecutor<'_>, iso: &str) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar(
        "select jsonb_build_object('iso', iso::text, 'name', name, 'aliases', aliases, 'region_id', region_id,
                                   'popularity_rank', popularity_rank)
           from destinations where iso = $1 for update",
    )
    .bind(iso)
    .fetch_optional(executor)
    .await
}

/// Updates everything but the ISO code (the primary key plans and orders refer to).
pub async fn update_destination(executor: impl PgExecutor<'_>, d: &Destination) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update destinations set name = $2, aliases = $3, region_id = $4, popularity_rank = $5 where iso = $1",
    )
    .bind(&d.iso)
    .bind(&d.name)
    .bind(&d.aliases)
    .bind(&d.region_id)
    .bind(d.popularity_rank)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The data columns: `data_mb`, or `fair_use_mb` and `throttle_kbps` for an unlimited plan.
fn data_columns(data: DataAllowance) -> sqlx::Result<(Option<i32>, Option<i32>, Option<i32>)> {
    Ok(match data {
        DataAllowance::Limited { mb } => (Some(int(mb)?), None, None),
        DataAllowance::Unlimited { fair_use_mb, throttle_kbps } => {
            (None, Some(int(fair_use_mb)?), Some(int(throttle_kbps)?))
        }
    })
}

/// Inserts a new plan row, or with `update` rewrites an existing one; false when an update
/// found no such plan. Coverage is written by [`replace_coverage`].
async fn write_plan(executor: impl PgExecutor<'_>, p: &Plan, update: bool) -> sqlx::Result<bool> {
    let sql = if update {
        "update plans set kind = $2::plan_kind, name = $3, destination_iso = $4, region_id = $5, data_mb = $6,
                fair_use_mb = $7, throttle_kbps = $8, validity_days = $9, price_minor = $10, currency = $11,
                validity_start = $12::validity_start, hotspot = $13, network_generation = $14, operators = $15,
                top_up = $16, on_sale = $17, sim_card_group_id = $18, fine_print = $19
          where id = $1"
    } else {
        "insert into plans (id, kind, name, destination_iso, region_id, data_mb, fair_use_mb, throttle_kbps,
                            validity_days, price_minor, currency, validity_start, hotspot, network_generation,
                            operators, top_up, on_sale, sim_card_group_id, fine_print)
         values ($1, $2::plan_kind, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::validity_start, $13, $14, $15, $16,
                 $17, $18, $19)"
    };
    let (data_mb, fair_use_mb, throttle_kbps) = data_columns(p.data)?;
    let done = sqlx::query(sql)
        .bind(p.id)
        .bind(p.kind.as_str())
        .bind(&p.name)
        .bind(&p.destination_iso)
        .bind(&p.region_id)
        .bind(data_mb)
        .bind(fair_use_mb)
        .bind(throttle_kbps)
        .bind(int(p.validity_days)?)
        .bind(p.price.minor)
        .bind(&p.price.currency)
        .bind(p.validity_start.as_str())
        .bind(p.hotspot)
        .bind(&p.network_generation)
        .bind(&p.operators)
        .bind(p.top_up)
        .bind(p.on_sale)
        .bind(p.sim_card_group_id)
        .bind(&p.fine_print)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_plan(executor: impl PgExecutor<'_>, p: &Plan) -> sqlx::Result<()> {
    write_plan(executor, p, false).await.map(|_| ())
}

/// Rewrites every column of an existing plan but its id; false when there is no such plan.
pub async fn update_plan(executor: impl PgExecutor<'_>, p: &Plan) -> sqlx::Result<bool> {
    write_plan(executor, p, true).await
}

/// Locks a plan for the rest of the transaction; its columns and coverage as JSON, named as
/// [`crate::services::catalogue_admin`] names them for the audit log, or `None` when there is
/// no such plan.
pub async fn lock_plan(executor: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar(
        "select (to_jsonb(p) - 'id' - 'created_at' - 'updated_at')
                || jsonb_build_object(
                     'destination_iso', p.destination_iso::text,
                     'currency', p.currency::text,
                     'coverage', coalesce((select jsonb_agg(c.destination_iso::text order by c.destination_iso)
                                             from plan_coverage c where c.plan_id = p.id), '[]'::jsonb))
           from plans p where p.id = $1 for update",
    )
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// Sets the countries a plan works in to exactly `isos`.
pub async fn replace_coverage(executor: impl PgExecutor<'_>, plan_id: Uuid, isos: &[String]) -> sqlx::Result<()> {
    sqlx::query(
        "with dropped as (delete from plan_coverage where plan_id = $1 and destination_iso <> all($2::text[]))
         insert into plan_coverage (plan_id, destination_iso) select $1, iso from unnest($2::text[]) as iso
         on conflict do nothing",
    )
    .bind(plan_id)
    .bind(isos)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Constraints whose refusal is the fault of one field: the checks above catch these first,
/// but the snapshot they check against can be a moment behind the database.
const CONSTRAINT_FIELDS: &[(&str, &str, &str)] = &[
    ("destinations_pkey", "iso", "A destination with this ISO code already exists."),
    ("destinations_iso_check", "iso", "Enter the 2-letter ISO 3166-1 code, such as JP."),
    ("destinations_name_key", "name", "Another destination already has this name."),
    ("destinations_name_check", "name", "Enter a name of 1 to 80 characters."),
    ("destinations_region_id_fkey", "region", "Choose one of the regions."),
    ("destinations_popularity_rank_check", "popularity_rank", "Enter a whole number of 1 or more, or leave it empty."),
    ("plans_name_check", "name", "Enter a name of 1 to 120 characters."),
    ("plans_destination_iso_fkey", "destination", "This destination does not exist (any more)."),
    ("plans_local_has_destination", "destination", "A local plan, and only a local plan, has a destination."),
    ("plans_region_id_fkey", "region", "Choose one of the regions."),
    ("plans_regional_has_region", "region", "A regional plan, and only a regional plan, has a region."),
    ("plans_data_mb_check", "data", "Enter the data in MB (1024 MB = 1 GB), or unlimited."),
    ("plans_unlimited_states_fair_use", "fair_use_mb", "An unlimited plan, and only one, states its fair use."),
    ("plans_fair_use_mb_check", "fair_use_mb", "Enter the daily fair-use amount as a whole number of MB."),
    ("plans_throttle_kbps_check", "throttle_kbps", "Enter the throttled speed as a whole number of kbps."),
    ("plans_validity_days_check", "validity_days", "Enter a number of days from 1 to 365."),
    ("plans_price_minor_check", "price", "The price must be more than zero."),
    ("plans_currency_check", "currency", "Enter the 3-letter ISO 4217 currency code, such as USD."),
    ("plans_network_generation_check", "network_generation", "Choose 3G, 4G or 5G."),
    ("plan_coverage_destination_iso_fkey", "coverage", "One of these countries does not exist (any more)."),
];

/// What a refused catalogue write means for the form.
pub fn refusal(e: sqlx::Error) -> Refusal {
    on_constraint(e, CONSTRAINT_FIELDS)
}
