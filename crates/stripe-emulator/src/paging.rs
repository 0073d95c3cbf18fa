//! Stripe's list paging, shared by every list endpoint: `limit` (1 to 100, default 10) and the
//! `starting_after` / `ending_before` cursors, which must name an object of the list.

use super::error::ApiError;
use super::form::Params;

const DEFAULT_PAGE_SIZE: i64 = 10;
const MAX_PAGE_SIZE: i64 = 100;

/// A list request's page.
pub struct Paging {
    limit: usize,
    starting_after: Option<String>,
    ending_before: Option<String>,
}

impl Paging {
    pub fn parse(query: &Params) -> Result<Paging, ApiError> {
        let limit_field = query.field("limit");
        let limit = limit_field.integer()?.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::integer_out_of_range(
                limit_field.path(),
                format!("limit must be between 1 and {MAX_PAGE_SIZE}."),
            ));
        }
        Ok(Paging {
            limit: limit as usize,
            starting_after: query.field("starting_after").string()?.map(str::to_owned),
            ending_before: query.field("ending_before").string()?.map(str::to_owned),
        })
    }

    /// The page of `items` and whether more follow. `id` reads an item's id; `what` names the
    /// object in the error for a cursor that is not in the list ("line item", "event").
    pub fn page<'a, T>(
        &self,
        items: &'a [T],
        id: impl Fn(&T) -> Option<&str>,
        what: &str,
    ) -> Result<(&'a [T], bool), ApiError> {
        let position = |cursor: &str, param: &str| {
            items
                .iter()
                .position(|i| id(i) == Some(cursor))
                .ok_or_else(|| ApiError::resource_missing(param, format!("No such {what}: '{cursor}'")))
        };
        let limit = self.limit;
        Ok(if let Some(cursor) = &self.starting_after {
            let rest = &items[position(cursor, "starting_after")? + 1..];
            (&rest[..rest.len().min(limit)], rest.len() > limit)
        } else if let Some(cursor) = &self.ending_before {
            let before = &items[..position(cursor, "ending_before")?];
            (&before[before.len().saturating_sub(limit)..], before.len() > limit)
        } else {
            (&items[..items.len().min(limit)], items.len() > limit)
        })
    }
}
