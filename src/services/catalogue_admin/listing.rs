//! The admins' catalogue list: destinations and plans (on sale or not) searched by `q` and
//! paged section by section, and where an item stands in it, so that saving an edit leads
//! back to the page that shows the item.

use uuid::Uuid;

use crate::db;
use crate::db::Pool;
use crate::domain::query::{ParamError, Params};
use crate::domain::search::fold;
use crate::domain::{Destination, Plan, PlanKind, Region};
use crate::error::Result;

/// Rows per page, in each section.
pub const PER_PAGE: usize = 25;
/// The deepest page a link may ask for (far more than the catalogue holds).
const MAX_PAGE: u32 = 10_000;

/// What the list shows: the search, and which page of each section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListView {
    pub q: Option<String>,
    pub destinations_page: u32,
    pub plans_page: u32,
}

impl Default for ListView {
    fn default() -> Self {
        Self { q: None, destinations_page: 1, plans_page: 1 }
    }
}

impl ListView {
    /// `q`, `destinations_page` and `plans_page`, read strictly (a bad value names itself).
    pub fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Self {
            q: params.text("q")?,
            destinations_page: params.int("destinations_page", 1, MAX_PAGE)?.unwrap_or(1),
            plans_page: params.int("plans_page", 1, MAX_PAGE)?.unwrap_or(1),
        })
    }

    /// The parameters that differ from the first, unfiltered page, in address order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        if self.destinations_page > 1 {
            pairs.push(("destinations_page", self.destinations_page.to_string()));
        }
        if self.plans_page > 1 {
            pairs.push(("plans_page", self.plans_page.to_string()));
        }
        pairs
    }
}

/// One item of the catalogue, as `saved=` names it: `plan:<id>` or `destination:<ISO>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Destination(String),
    Plan(Uuid),
}

impl Item {
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once(':')? {
            ("plan", id) => id.parse().ok().map(Item::Plan),
            ("destination", iso) => Some(Item::Destination(iso.to_ascii_uppercase())),
            _ => None,
        }
    }

    /// The `saved=` value.
    pub fn saved(&self) -> String {
        match self {
            Item::Destination(iso) => format!("destination:{iso}"),
            Item::Plan(id) => format!("plan:{id}"),
        }
    }

    /// The id of its row in the list, the fragment of a link to it.
    pub fn anchor(&self) -> String {
        match self {
            Item::Destination(iso) => format!("destination-{iso}"),
            Item::Plan(id) => format!("plan-{id}"),
        }
    }
}

/// A destination as the admin list shows it.
pub struct DestinationRow {
    pub destination: Destination,
    pub region: String,
    /// Local plans of this country, on sale or not.
    pub local_plans: usize,
    /// Plans on sale that work there (local, regional and global), as the storefront counts them.
    pub plans_on_sale: usize,
}

/// A plan as the admin list shows it.
pub struct PlanRow {
    pub plan: Plan,
    /// Where it is sold: `🇯🇵 Japan`, `Europe · 35 countries`, `Worldwide · 120 countries`.
    pub sold_in: String,
}

/// One page of a section of the list.
pub struct Section<T> {
    pub rows: Vec<T>,
    /// How many items match, on every page.
    pub total: usize,
    pub page: u32,
    /// At least 1, even when nothing matches.
    pub pages: u32,
    /// The 1-based positions of the first and last rows shown (0 and 0 when none).
    pub first: usize,
    pub last: usize,
}

impl<T> Section<T> {
    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages
    }
}

/// The page of the catalogue list an admin asked for.
pub struct CatalogueOverview {
    pub destinations: Section<DestinationRow>,
    pub plans: Section<PlanRow>,
    /// What `saved` (`plan:<id>` or `destination:<ISO>`) names, as a confirmation.
    pub notice: Option<String>,
}

/// The catalogue as the list reads it: from the database (the admins' list must show their
/// own edit at once), plans by name.
struct Loaded {
    regions: Vec<Region>,
    destinations: Vec<Destination>,
    plans: Vec<Plan>,
}

impl Loaded {
    async fn read(pool: &Pool) -> Result<Self> {
        let mut tx = pool.begin().await?;
        let regions = db::catalogue::regions(&mut *tx).await?;
        let destinations = db::catalogue::destinations(&mut *tx).await?;
        let mut plans = db::catalogue::plans(&mut *tx).await?;
        tx.commit().await?;
        // The id breaks ties, so that pages never overlap.
        plans.sort_by_cached_key(|p| (fold(&p.name), p.id));
        Ok(Self { regions, destinations, plans })
    }

    /// The destinations and plans `q` finds (all of them without one): destinations by name,
    /// alias or ISO code; plans by name, or by the name or code of a local plan's country;
    /// ignoring case and accents.
    fn matching(&self, q: Option<&str>) -> (Vec<&Destination>, Vec<&Plan>) {
        let q = q.map(fold).filter(|q| !q.is_empty());
        let Some(q) = q.as_deref() else {
            return (self.destinations.iter().collect(), self.plans.iter().collect());
        };
        let named = |name: &str| fold(name).contains(q);
        let destination_matches =
            |d: &Destination| named(&d.name) || d.aliases.iter().any(|a| named(a)) || d.iso.eq_ignore_ascii_case(q);
        let destinations = self.destinations.iter().filter(|d| destination_matches(d)).collect();
        let plans = self
            .plans
            .iter()
            .filter(|p| {
                named(&p.name)
                    || p.destination_iso.as_deref().is_some_and(|iso| {
                        iso.eq_ignore_ascii_case(q) || self.destinations.iter().any(|d| d.iso == iso && named(&d.name))
                    })
            })
            .collect();
        (destinations, plans)
    }

    fn region_name(&self, id: &str) -> String {
        self.regions.iter().find(|r| r.id == id).map_or_else(|| id.to_string(), |r| r.name.clone())
    }

    fn destination_row(&self, d: &Destination) -> DestinationRow {
        DestinationRow {
            destination: d.clone(),
            region: self.region_name(&d.region_id),
            local_plans: self.plans.iter().filter(|p| p.destination_iso.as_deref() == Some(&d.iso)).count(),
            plans_on_sale: self.plans.iter().filter(|p| p.on_sale && p.covers(&d.iso)).count(),
        }
    }

    fn plan_row(&self, p: &Plan) -> PlanRow {
        let countries = match p.coverage.len() {
            1 => "1 country".to_string(),
            n => format!("{n} countries"),
        };
        let sold_in = match p.kind {
            PlanKind::Local => p
                .destination_iso
                .as_deref()
                .and_then(|iso| self.destinations.iter().find(|d| d.iso == iso))
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            PlanKind::Regional => format!("{} · {countries}", self.region_name(p.region_id.as_deref().unwrap_or(""))),
            PlanKind::Global => format!("Worldwide · {countries}"),
        };
        PlanRow { plan: p.clone(), sold_in }
    }

    fn notice(&self, saved: &Item) -> Option<String> {
        match saved {
            Item::Plan(id) => self.plans.iter().find(|p| p.id == *id).map(|p| format!("Saved the plan “{}”.", p.name)),
            Item::Destination(iso) => self
                .destinations
                .iter()
                .find(|d| d.iso == *iso)
                .map(|d| format!("Saved the destination {} ({}).", d.name, d.iso)),
        }
    }
}

/// Page `page` of `items` (empty past the end), its rows made by `row`.
fn section<'a, I: 'a, T>(items: &[&'a I], page: u32, row: impl Fn(&I) -> T) -> Section<T> {
    let total = items.len();
    let start = (page as usize - 1).saturating_mul(PER_PAGE).min(total);
    let end = start.saturating_add(PER_PAGE).min(total);
    let rows: Vec<T> = items[start..end].iter().map(|item| row(item)).collect();
    Section {
        total,
        page,
        pages: total.div_ceil(PER_PAGE).max(1) as u32,
        first: if rows.is_empty() { 0 } else { start + 1 },
        last: if rows.is_empty() { 0 } else { end },
        rows,
    }
}

/// The page of the list `view` asks for, with a confirmation of what `saved` names.
pub async fn overview(pool: &Pool, view: &ListView, saved: Option<&str>) -> Result<CatalogueOverview> {
    let loaded = Loaded::read(pool).await?;
    let (destinations, plans) = loaded.matching(view.q.as_deref());
    Ok(CatalogueOverview {
        destinations: section(&destinations, view.destinations_page, |d| loaded.destination_row(d)),
        plans: section(&plans, view.plans_page, |p| loaded.plan_row(p)),
        notice: saved.and_then(Item::parse).and_then(|item| loaded.notice(&item)),
    })
}

/// The view that shows `item`: `view` with the item's section turned to the page holding it.
/// When the search no longer finds the item (its name was just changed), the search is
/// dropped. An item not in the catalogue leaves `view` as it is.
pub async fn locate(pool: &Pool, view: &ListView, item: &Item) -> Result<ListView> {
    let loaded = Loaded::read(pool).await?;
    let position = |q: Option<&str>| {
        let (destinations, plans) = loaded.matching(q);
        match item {
            Item::Destination(iso) => destinations.iter().position(|d| d.iso == *iso),
            Item::Plan(id) => plans.iter().position(|p| p.id == *id),
        }
    };
    let (q, index) = match position(view.q.as_deref()) {
        Some(index) => (view.q.clone(), index),
        None => match position(None) {
            Some(index) => (None, index),
            None => return Ok(view.clone()),
        },
    };
    let page = (index / PER_PAGE) as u32 + 1;
    let mut found = ListView { q, ..view.clone() };
    match item {
        Item::Destination(_) => found.destinations_page = page,
        Item::Plan(_) => found.plans_page = page,
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
    }

    #[test]
    fn views_read_strictly_and_write_only_what_differs() {
        let view = ListView::from_params(&params(&[("q", " japan "), ("plans_page", "3")])).unwrap();
        assert_eq!(view, ListView { q: Some("japan".into()), destinations_page: 1, plans_page: 3 });
        assert_eq!(view.to_pairs(), [("q", "japan".to_string()), ("plans_page", "3".to_string())]);
        assert_eq!(ListView::from_params(&params(&[("plans_page", "0")])).unwrap_err().param, "plans_page");
        assert_eq!(
            ListView::from_params(&params(&[("destinations_page", "x")])).unwrap_err().param,
            "destinations_page"
        );
        assert!(ListView::default().to_pairs().is_empty());
    }

    #[test]
    fn items_round_trip() {
        let id = Uuid::new_v4();
        assert_eq!(Item::parse(&Item::Plan(id).saved()), Some(Item::Plan(id)));
        assert_eq!(Item::parse("destination:jp"), Some(Item::Destination("JP".into())));
        assert_eq!(Item::Destination("JP".into()).anchor(), "destination-JP");
        assert_eq!(Item::parse("plan:nope"), None);
        assert_eq!(Item::parse("nothing"), None);
    }

    #[test]
    fn sections_page_without_overlap() {
        let items: Vec<u32> = (1..=60).collect();
        let refs: Vec<&u32> = items.iter().collect();
        let third = section(&refs, 3, |n| *n);
        assert_eq!(
            (third.rows, third.total, third.pages, third.first, third.last),
            (vec![51, 52, 53, 54, 55, 56, 57, 58, 59, 60], 60, 3, 51, 60)
        );
        let past = section(&refs, 9, |n| *n);
        assert!(past.rows.is_empty() && (past.first, past.last) == (0, 0) && past.has_previous() && !past.has_next());
        let none = section::<u32, u32>(&[], 1, |n| *n);
        assert_eq!((none.pages, none.first, none.last), (1, 0, 0));
    }
}
