//! Reading orders back: for the holder of an order's token, for its account, and for staff.
//! Timelines for travellers leave out the internal events (`EventKind::INTERNAL`); events for
//! many orders load in one query.

use serde_json::json;
use uuid::Uuid;

use super::lifecycle;
use crate::db::{self, Pool};
use crate::domain::order::{Order, OrderEvent};
use crate::domain::user::User;
use crate::domain::{Actor, EventKind, token};
use crate::error::{Error, Result};

fn parse_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| Error::NotFound("order"))
}

async fn find(pool: &Pool, id: Uuid) -> Result<Order> {
    db::orders::find(pool, id).await?.ok_or(Error::NotFound("order"))
}

/// An order by id, for whoever holds its access token (the checkout's, or one an email carries).
/// A wrong token is the same as no order.
pub async fn by_token(pool: &Pool, id: &str, access_token: &str) -> Result<Order> {
    let order = find(pool, parse_id(id)?).await?;
    let digest = token::digest(access_token);
    if !token::digests_equal(&digest, &order.access_token_sha256)
        && !db::mail::link_token_matches(pool, order.id, &digest).await?
    {
        return Err(Error::NotFound("order"));
    }
    Ok(order)
}

/// An order for whoever may see it: the holder of its access token, or its account. Opening
/// a guest order's link while signed in with the same email claims it for that account.
pub async fn for_viewer(pool: &Pool, id: &str, access_token: Option<&str>, viewer: Option<&User>) -> Result<Order> {
    let Some(token) = access_token.filter(|t| !t.is_empty()) else {
        let order = find(pool, parse_id(id)?).await?;
        if viewer.is_none_or(|v| order.user_id != Some(v.id)) {
            return Err(Error::NotFound("order"));
        }
        return Ok(order);
    };
    let order = by_token(pool, id, token).await?;
    if let Some(viewer) = viewer
        && order.user_id.is_none()
        && order.email.eq_ignore_ascii_case(&viewer.email)
    {
        let mut tx = pool.begin().await?;
        if db::orders::set_user(&mut *tx, order.id, viewer.id).await? {
            let details = json!({ "user_id": viewer.id });
            lifecycle::record(&mut tx, order.id, EventKind::Claimed, Actor::Traveller, details).await?;
        }
        tx.commit().await?;
        return Ok(Order { user_id: Some(viewer.id), ..order });
    }
    Ok(order)
}

/// The order's timeline as its traveller sees it, oldest first.
pub async fn timeline(pool: &Pool, order_id: Uuid) -> Result<Vec<OrderEvent>> {
    let events = db::order_events::for_order(pool, order_id).await?;
    Ok(events.into_iter().map(|(e, _)| e).filter(|e| e.kind.visible_to_traveller()).collect())
}

/// The travellers' timelines of several orders, in the orders' order, in one query.
async fn timelines(pool: &Pool, order_ids: &[Uuid]) -> Result<Vec<Vec<OrderEvent>>> {
    let events = db::order_events::for_orders(pool, order_ids).await?;
    Ok(order_ids
        .iter()
        .map(|id| {
            events
                .iter()
                .filter(|(e, _)| e.order_id == *id && e.kind.visible_to_traveller())
                .map(|(e, _)| e.clone())
                .collect()
        })
        .collect())
}

/// An account's orders, newest first (at most 200).
pub async fn for_account(pool: &Pool, user_id: Uuid) -> Result<Vec<Order>> {
    Ok(db::orders::for_user(pool, user_id).await?)
}

/// An account's orders with their timelines: two queries, however many orders.
pub async fn for_account_with_timelines(pool: &Pool, user_id: Uuid) -> Result<Vec<(Order, Vec<OrderEvent>)>> {
    let orders = for_account(pool, user_id).await?;
    let ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
    let timelines = timelines(pool, &ids).await?;
    Ok(orders.into_iter().zip(timelines).collect())
}

/// The eSIM facts staff see (no activation code).
#[derive(Debug, Clone)]
pub struct EsimFacts {
    pub telnyx_sim_id: String,
    pub iccid: String,
    pub status: String,
}

/// Everything the admin order page shows.
pub struct StaffView {
    pub order: Order,
    pub esim: Option<EsimFacts>,
    /// Every event, internal ones too, with the acting operator's email.
    pub events: Vec<(OrderEvent, Option<String>)>,
    pub account_email: Option<String>,
}

pub async fn for_staff(pool: &Pool, id: Uuid) -> Result<StaffView> {
    let order = find(pool, id).await?;
    let esim = db::esims::find(pool, id).await?.and_then(|e| {
        Some(EsimFacts {
            telnyx_sim_id: e.telnyx_sim_id?,
            iccid: e.iccid.unwrap_or_default(),
            status: e.telnyx_status.unwrap_or_default(),
        })
    });
    let events = db::order_events::for_order(pool, id).await?;
    let account_email = match order.user_id {
        Some(uid) => db::users::find(pool, uid).await?.map(|u| u.email),
        None => None,
    };
    Ok(StaffView { order, esim, events, account_email })
}

/// An order by id, for staff.
pub async fn by_id(pool: &Pool, id: Uuid) -> Result<Order> {
    find(pool, id).await
}

/// Which token opened an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// The order's own access token.
    OrderToken,
    /// A token of the account the order belongs to.
    Account,
}

/// An order for the API's bearer token: the order's own access token, or a signed-in
/// account's token for one of its orders. Anything else is the same as no order (404), so
/// an account's token reveals nothing of other people's orders.
pub async fn for_bearer(pool: &Pool, id: &str, bearer: &str) -> Result<(Order, Holder)> {
    let order = find(pool, parse_id(id)?).await?;
    if token::digests_equal(&token::digest(bearer), &order.access_token_sha256) {
        return Ok((order, Holder::OrderToken));
    }
    match (order.user_id, super::accounts::user_for_token(pool, bearer).await?) {
        (Some(owner), Some(user)) if owner == user.id => Ok((order, Holder::Account)),
        _ => Err(Error::NotFound("order")),
    }
}
