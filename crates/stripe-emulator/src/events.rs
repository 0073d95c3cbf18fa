//! `GET /v1/events`: every event the emulator created, newest first, in Stripe's list
//! envelope, with `limit`, `starting_after`, `ending_before`, `type` and `created[gt|gte|lt|lte]`
//! (or `created=<ts>`), so a client can catch up on events whose webhook never arrived.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::error::ApiError;
use super::form::{Field, Params};
use super::state::Shared;

/// Events per page unless `limit` says otherwise, and the most a page may hold.
const DEFAULT_PAGE_SIZE: i64 = 10;
const MAX_PAGE_SIZE: i64 = 100;

/// `created` bounds, each optional, in Unix seconds.
#[derive(Debug, Default)]
struct Created {
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
}

impl Created {
    fn parse(field: Field<'_>) -> Result<Self, ApiError> {
        if let Ok(Some(exact)) = field.integer() {
            return Ok(Self { gte: Some(exact), lte: Some(exact), ..Self::default() });
        }
        Ok(Self {
            gt: field.child("gt").integer()?,
            gte: field.child("gte").integer()?,
            lt: field.child("lt").integer()?,
            lte: field.child("lte").integer()?,
        })
    }

    fn admits(&self, created: i64) -> bool {
        self.gt.is_none_or(|b| created > b)
            && self.gte.is_none_or(|b| created >= b)
            && self.lt.is_none_or(|b| created < b)
            && self.lte.is_none_or(|b| created <= b)
    }
}

pub async fn list_events(State(shared): State<Arc<Shared>>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let query = Params::parse(uri.query().unwrap_or("").as_bytes())?;
    let limit_field = query.field("limit");
    let limit = limit_field.integer()?.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::integer_out_of_range(
            limit_field.path(),
            format!("limit must be between 1 and {MAX_PAGE_SIZE}."),
        ));
    }
    let limit = limit as usize;
    let created = Created::parse(query.field("created"))?;
    let kind = query.field("type").string()?.map(str::to_owned);
    let starting_after = query.field("starting_after").string()?.map(str::to_owned);
    let ending_before = query.field("ending_before").string()?.map(str::to_owned);
    // Expire overdue sessions first, so their events are listed.
    shared.update(|_, _| ());
    let events = shared.with_webhooks(|w| w.events());
    // Newest first; events created in the same second keep creation order reversed.
    let matching: Vec<Value> = events
        .into_iter()
        .rev()
        .filter(|e| created.admits(e["created"].as_i64().unwrap_or_default()))
        .filter(|e| kind.as_deref().is_none_or(|k| e["type"].as_str() == Some(k)))
        .collect();
    let position = |cursor: &str, param: &str| {
        matching
            .iter()
            .position(|e| e["id"].as_str() == Some(cursor))
            .ok_or_else(|| ApiError::resource_missing(param, format!("No such event: '{cursor}'")))
    };
    let (page, has_more) = if let Some(cursor) = &starting_after {
        let rest = &matching[position(cursor, "starting_after")? + 1..];
        (&rest[..rest.len().min(limit)], rest.len() > limit)
    } else if let Some(cursor) = &ending_before {
        let before = &matching[..position(cursor, "ending_before")?];
        (&before[before.len().saturating_sub(limit)..], before.len() > limit)
    } else {
        (&matching[..matching.len().min(limit)], matching.len() > limit)
    };
    Ok(Json(json!({ "object": "list", "data": page, "has_more": has_more, "url": "/v1/events" })))
}
