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
use super::paging::Paging;
use super::state::Shared;

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
    let paging = Paging::parse(&query)?;
    let created = Created::parse(query.field("created"))?;
    let kind = query.field("type").string()?.map(str::to_owned);
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
    let (page, has_more) = paging.page(&matching, |e| e["id"].as_str(), "event")?;
    Ok(Json(json!({ "object": "list", "data": page, "has_more": has_more, "url": "/v1/events" })))
}
