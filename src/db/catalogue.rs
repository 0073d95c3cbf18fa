//! Reading the catalogue: regions, destinations, plans and their coverage.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{DataAllowance, Destination, Money, Plan, Region};

#[derive(sqlx::FromRow)]
struct RegionRow {
    id: String,
    name: String,
    sort_order: i32,
}

#[derive(sqlx::FromRow)]
struct DestinationRow {
    iso: String,
    name: String,
    aliases: Vec<String>,
    region_id: String,
    popularity_rank: Option<i32>,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: Uuid,
    kind: String,
    name: String,
    destination_iso: Option<String>,
    region_id: Option<String>,
    data_mb: Option<i32>,
    fair_use_mb: Option<i32>,
    throttle_kbps: Option<i32>,
    validity_days: i32,
    price_minor: i64,
    currency: String,
    validity_start: String,
    hotspot: bool,
    network_generation: String,
    operators: Vec<String>,
    top_up: bool,
    on_sale: bool,
    sim_card_group_id: Option<Uuid>,
    fine_print: String,
    coverage: Vec<String>,
}

pub async fn regions(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<Region>> {
    let rows: Vec<RegionRow> = sqlx::query_as("select id, name, sort_order from regions order by sort_order, name")
        .fetch_all(executor)
        .await?;
    Ok(rows.into_iter().map(|r| Region { id: r.id, name: r.name, sort_order: r.sort_order }).collect())
}

pub async fn destinations(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<Destination>> {
    let rows: Vec<DestinationRow> = sqlx::query_as(
        "select iso::text as iso, name, aliases, region_id, popularity_rank from destinations order by name",
    )
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Destination {
            iso: r.iso,
            name: r.name,
            aliases: r.aliases,
            region_id: r.region_id,
            popularity_rank: r.popularity_rank,
        })
        .collect())
}

/// Every plan, on sale or not, with its coverage.
pub async fn plans(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<Plan>> {
    let rows: Vec<PlanRow> = sqlx::query_as(
        "select p.id, p.kind::text as kind, p.name, p.destination_iso::text as destination_iso, p.region_id,
                p.data_mb, p.fair_use_mb, p.throttle_kbps, p.validity_days, p.price_minor,
                p.currency::text as currency, p.validity_start::text as validity_start, p.hotspot,
                p.network_generation, p.operators, p.top_up, p.on_sale, p.sim_card_group_id, p.fine_print,
                coalesce(array_agg(c.destination_iso::text order by c.destination_iso)
                         filter (where c.destination_iso is not null), '{}') as coverage
           from plans p
           left join plan_coverage c on c.plan_id = p.id
          group by p.id
          order by p.price_minor, p.name",
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(plan_from_row).collect()
}

fn plan_from_row(r: PlanRow) -> sqlx::Result<Plan> {
    let decode = |column: &str, e: String| sqlx::Error::ColumnDecode { index: column.into(), source: e.into() };
    let non_negative = |column: &str, v: i32| u32::try_from(v).map_err(|e| decode(column, e.to_string()));
    let data = match (r.data_mb, r.fair_use_mb, r.throttle_kbps) {
        (Some(mb), _, _) => DataAllowance::Limited { mb: non_negative("data_mb", mb)? },
        (None, Some(fair), Some(kbps)) => DataAllowance::Unlimited {
            fair_use_mb: non_negative("fair_use_mb", fair)?,
            throttle_kbps: non_negative("throttle_kbps", kbps)?,
        },
        _ => {
            return Err(decode("data_mb", "unlimited plan without its fair-use throttle".into()));
        }
    };
    Ok(Plan {
        id: r.id,
        kind: r.kind.parse().map_err(|e| decode("kind", e))?,
        name: r.name,
        destination_iso: r.destination_iso,
        region_id: r.region_id,
        data,
        validity_days: non_negative("validity_days", r.validity_days)?,
        price: Money::new(r.price_minor, r.currency),
        validity_start: r.validity_start.parse().map_err(|e| decode("validity_start", e))?,
        hotspot: r.hotspot,
        network_generation: r.network_generation,
        operators: r.operators,
        top_up: r.top_up,
        on_sale: r.on_sale,
        sim_card_group_id: r.sim_card_group_id,
        fine_print: r.fine_print,
        coverage: r.coverage,
    })
}

/// What provisioning needs of a plan: its data in MB (`None`: unlimited) and SIM card group.
pub async fn provisioning_facts(
    executor: impl PgExecutor<'_>,
    plan_id: Uuid,
) -> sqlx::Result<(Option<i32>, Option<Uuid>)> {
    sqlx::query_as("select data_mb, sim_card_group_id from plans where id = $1").bind(plan_id).fetch_one(executor).await
}

/// Each region's aliases ("Schengen" for Europe), for search.
pub async fn region_aliases(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, Vec<String>)>> {
    sqlx::query_as("select id, aliases from regions where cardinality(aliases) > 0").fetch_all(executor).await
}
