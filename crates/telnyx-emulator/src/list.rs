//! The paginated lists `GET /sim_cards` and `GET /sim_card_actions`: deep-object query
//! parameters (`filter[tags][]`, `page[size]`, raw or percent-encoded), AND-ed filters (every
//! tag must match; several statuses are alternatives), stable creation order, computed `meta`.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};

use super::error::ApiError;
use super::objects::Sim;
use super::state::Shared;

const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 250;
/// `filter[status]` values the spec allows for SIM cards.
const SIM_STATUS_FILTERS: [&str; 5] = ["enabled", "disabled", "standby", "data_limit_exceeded", "unauthorized_imei"];
const ACTION_STATUS_FILTERS: [&str; 3] = ["in-progress", "completed", "failed"];
const ACTION_TYPE_FILTERS: [&str; 6] =
    ["enable", "enable_standby_sim_card", "disable", "set_standby", "remove_public_ip", "set_public_ip"];
const USAGE_SORT: &str = "current_billing_period_consumed_data.amount";

/// The query string as decoded `(key, value)` pairs, keys with their brackets
/// (`filter%5Btags%5D%5B%5D=a` → `("filter[tags][]", "a")`).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect()
}

/// Every value of an array parameter, in any of its wire forms: `name=a`, `name[]=a`,
/// `name[0]=a`, repeated or not.
fn array_values(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(key, _)| {
            key.strip_prefix(name).is_some_and(|rest| {
                rest.is_empty()
                    || rest
                        .strip_prefix('[')
                        .and_then(|r| r.strip_suffix(']'))
                        .is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .map(|(_, value)| value.clone())
        .collect()
}

/// The last value of a single-valued parameter.
fn single_value(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.clone())
}

/// Values that must come from `allowed`; comma-separated lists are split.
fn enum_values(pairs: &[(String, String)], name: &str, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
    let values: Vec<String> =
        array_values(pairs, name).iter().flat_map(|v| v.split(',')).map(|v| v.trim().to_owned()).collect();
    match values.iter().find(|v| !allowed.contains(&v.as_str())) {
        Some(bad) => Err(ApiError::invalid_parameter(name, format!("{bad} is not one of: {}", allowed.join(", ")))),
        None => Ok(values),
    }
}

#[derive(Debug, Clone, Copy)]
struct Page {
    number: u64,
    size: u64,
}

impl Page {
    fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let number = match single_value(pairs, "page[number]") {
            None => 1,
            Some(raw) => raw.trim().parse::<u64>().ok().filter(|&n| n >= 1).ok_or_else(|| {
                ApiError::invalid_parameter("page[number]", "page[number] must be an integer of at least 1")
            })?,
        };
        let size = match single_value(pairs, "page[size]") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => {
                raw.trim().parse::<u64>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| {
                    ApiError::invalid_parameter(
                        "page[size]",
                        format!("page[size] must be an integer between 1 and {MAX_PAGE_SIZE}"),
                    )
                })?
            }
        };
        Ok(Self { number, size })
    }

    /// This page of `items` and its `meta`.
    fn cut(self, items: Vec<Value>) -> Value {
        let total = items.len() as u64;
        let skip = (self.number - 1).saturating_mul(self.size);
        let data: Vec<Value> = items.into_iter().skip(skip as usize).take(self.size as usize).collect();
        json!({
            "data": data,
            "meta": {
                "page_number": self.number,
                "page_size": self.size,
                "total_pages": total.div_ceil(self.size),
                "total_results": total,
            },
        })
    }
}

/// How `GET /sim_cards` orders its results: creation order unless `sort` says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Created,
    UsageAscending,
    UsageDescending,
}

pub async fn list_sims(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Result<Json<Value>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let page = Page::parse(&pairs)?;
    let tags = array_values(&pairs, "filter[tags]");
    let statuses = enum_values(&pairs, "filter[status]", &SIM_STATUS_FILTERS)?;
    let iccid = single_value(&pairs, "filter[iccid]");
    let msisdn = single_value(&pairs, "filter[msisdn]");
    let group = single_value(&pairs, "filter[sim_card_group_id]");
    let sort = match single_value(&pairs, "sort").as_deref() {
        None => Sort::Created,
        Some(USAGE_SORT) => Sort::UsageAscending,
        Some(value) if value.strip_prefix('-') == Some(USAGE_SORT) => Sort::UsageDescending,
        Some(_) => {
            return Err(ApiError::invalid_parameter("sort", format!("sort must be {USAGE_SORT} or -{USAGE_SORT}")));
        }
    };
    shared.update(|state, now| {
        let matches = |sim: &&Sim| {
            // New SIMs may reach the tag index late (a test control).
            let tags_ok = tags.is_empty()
                || (sim.tags_visible_at <= now.instant && tags.iter().all(|tag| sim.tags.contains(tag)));
            tags_ok
                && (statuses.is_empty() || statuses.iter().any(|s| s == sim.status.as_str()))
                && iccid.as_ref().is_none_or(|i| sim.iccid.contains(i.as_str()))
                && msisdn.as_ref().is_none_or(|m| &sim.msisdn == m)
                && group.as_ref().is_none_or(|g| sim.group_id.as_ref() == Some(g))
        };
        let mut found: Vec<&Sim> = state.sims.iter().filter(matches).collect();
        let by_usage = |a: &&Sim, b: &&Sim| a.usage_mb.partial_cmp(&b.usage_mb).unwrap_or(Ordering::Equal);
        match sort {
            Sort::Created => {}
            Sort::UsageAscending => found.sort_by(by_usage),
            Sort::UsageDescending => found.sort_by(|a, b| by_usage(b, a)),
        }
        Ok(Json(page.cut(found.into_iter().map(Sim::simple_json).collect())))
    })
}

pub async fn list_actions(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let page = Page::parse(&pairs)?;
    let sim_id = single_value(&pairs, "filter[sim_card_id]");
    let statuses = enum_values(&pairs, "filter[status]", &ACTION_STATUS_FILTERS)?;
    let kinds = enum_values(&pairs, "filter[action_type]", &ACTION_TYPE_FILTERS)?;
    // The emulator has no bulk actions, so that filter matches nothing.
    let bulk = single_value(&pairs, "filter[bulk_sim_card_action_id]").is_some();
    shared.update(|state, _| {
        let found: Vec<Value> = state
            .actions
            .iter()
            .filter(|a| {
                !bulk
                    && sim_id.as_ref().is_none_or(|id| &a.sim_id == id)
                    && (statuses.is_empty() || statuses.iter().any(|s| s == a.status.as_str()))
                    && (kinds.is_empty() || kinds.iter().any(|k| k == a.kind.as_str()))
            })
            .map(|a| a.to_json())
            .collect();
        Ok(Json(page.cut(found)))
    })
}
