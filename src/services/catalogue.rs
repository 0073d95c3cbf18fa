//! The catalogue snapshot: loaded from PostgreSQL into memory, served to every page and
//! endpoint without a query, and reloaded whenever PostgreSQL announces a change
//! (`NOTIFY catalogue_changed`, sent by triggers), so every Tern process sharing the
//! database sees an edit at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use uuid::Uuid;

use crate::db::notify::{self, Listener, Wake};
use crate::db::{self, Pool};
use crate::domain::catalogue::PlanFilter;
use crate::domain::plan_list::{PlanFeatures, PlanView};
use crate::domain::query::{ParamError, Params, or_list};
use crate::domain::search::SearchIndex;
use crate::domain::{Catalogue, Destination, Plan, PlanKind, Region};
use crate::error::{Error, Result};

/// One loaded catalogue, numbered: a higher generation is a newer load.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub generation: u64,
    pub catalogue: Catalogue,
    /// The search keys of this catalogue, built once per load.
    pub search: SearchIndex,
}

impl std::ops::Deref for Snapshot {
    type Target = Catalogue;
    fn deref(&self) -> &Catalogue {
        &self.catalogue
    }
}

/// A shared handle on the current snapshot.
#[derive(Clone, Default)]
pub struct CatalogueStore {
    current: Arc<RwLock<Arc<Snapshot>>>,
}

impl CatalogueStore {
    /// The current snapshot; cheap (an `Arc` clone).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The current snapshot's generation.
    pub fn generation(&self) -> u64 {
        self.current.read().unwrap_or_else(|e| e.into_inner()).generation
    }

    /// Reads the whole catalogue in one consistent transaction and swaps it in.
    pub async fn reload(&self, pool: &Pool) -> Result<Arc<Snapshot>> {
        let started = std::time::Instant::now();
        let mut tx = pool.begin().await?;
        db::read_only_snapshot(&mut tx).await?;
        let regions = db::catalogue::regions(&mut *tx).await?;
        let destinations = db::catalogue::destinations(&mut *tx).await?;
        let plans = db::catalogue::plans(&mut *tx).await?;
        let region_aliases: HashMap<String, Vec<String>> =
            db::catalogue::region_aliases(&mut *tx).await?.into_iter().collect();
        tx.commit().await?;
        let catalogue = Catalogue::new(regions, destinations, plans);
        let search = SearchIndex::build(&catalogue, &region_aliases);
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let snapshot = Arc::new(Snapshot { generation: current.generation + 1, catalogue, search });
        *current = snapshot.clone();
        metrics::histogram!("tern_catalogue_reload_seconds").record(started.elapsed().as_secs_f64());
        metrics::gauge!("tern_catalogue_generation").set(snapshot.generation as f64);
        tracing::debug!(catalogue.plans = snapshot.plans_on_sale(), "catalogue snapshot loaded");
        Ok(snapshot)
    }

    /// Loads the snapshot, then keeps it fresh in the background until the process ends.
    pub async fn load_and_follow(pool: Pool) -> Result<Self> {
        let store = Self::default();
        let listener = listen(&pool).await?;
        store.reload(&pool).await?;
        tokio::spawn(follow(store.clone(), pool, listener));
        Ok(store)
    }
}

async fn listen(pool: &Pool) -> Result<Listener> {
    Ok(Listener::connect(pool, notify::CATALOGUE_CHANGED).await?)
}

/// Reloads on every notification. The listener reconnects by itself after a lost connection;
/// as notifications sent meanwhile are lost, it reloads after each reconnect too.
async fn follow(store: CatalogueStore, pool: Pool, mut listener: Listener) {
    loop {
        match listener.wait(None).await {
            Ok(Wake::Notified | Wake::TimedOut) => {
                // Coalesce a burst of statements (an edit touching several tables) into one reload.
                tokio::time::sleep(Duration::from_millis(20)).await;
                listener.drain();
            }
            Ok(Wake::Reconnected) => tracing::warn!("catalogue listener reconnected; reloading"),
            Err(_) if pool.is_closed() => return,
            Err(e) => {
                tracing::error!(error = %e, "catalogue listener failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        if pool.is_closed() {
            return;
        }
        if let Err(e) = store.reload(&pool).await {
            tracing::error!(error = %e, "catalogue reload failed; keeping the previous snapshot");
        }
    }
}

/// A destination search: free text and an optional region.
pub struct DestinationSearch<'a> {
    pub q: String,
    pub region: Option<&'a Region>,
    pub results: Vec<&'a Destination>,
    /// Regions the text names ("europe", "schengen"); none when a region is chosen.
    pub regions: Vec<&'a Region>,
    /// When nothing matched: the closest name, to offer as "did you mean".
    pub suggestion: Option<&'a str>,
}

/// Reads `q` and `region` from the query string and runs the search over the snapshot's index
/// (names, codes, aliases, then typos of 4+ letters).
pub fn search_destinations<'a>(snapshot: &'a Snapshot, params: &Params) -> Result<DestinationSearch<'a>> {
    let catalogue = &snapshot.catalogue;
    let q = params.text("q")?.unwrap_or_default();
    let region = region_param(catalogue, params, "region")?;
    let hits = snapshot.search.search(catalogue, &q, region.map(|r| r.id.as_str()));
    Ok(DestinationSearch { q, region, results: hits.destinations, regions: hits.regions, suggestion: hits.suggestion })
}

/// The regional plans sold under a region, cheapest first.
pub fn regional_plans<'a>(catalogue: &'a Catalogue, region: &Region) -> Vec<&'a Plan> {
    let filter = PlanFilter { region: Some(region.id.clone()), kind: Some(PlanKind::Regional), ..Default::default() };
    catalogue.filter_plans(&filter)
}

fn region_param<'a>(catalogue: &'a Catalogue, params: &Params, name: &str) -> Result<Option<&'a Region>> {
    match params.text(name)? {
        None => Ok(None),
        Some(id) => catalogue.region(&id).map(Some).ok_or_else(|| {
            let known: Vec<&str> = catalogue.regions().iter().map(|r| r.id.as_str()).collect();
            let names: Vec<&str> = catalogue.regions().iter().map(|r| r.name.as_str()).collect();
            Error::InvalidParam(
                ParamError::new(name, format!("is not one of our regions ({})", known.join(", ")))
                    .hint(format!("choose one of {}", or_list(&names))),
            )
        }),
    }
}

/// A destination by ISO code, with every on-sale plan that works there, cheapest first.
pub fn destination_with_plans<'a>(
    catalogue: &'a Catalogue,
    iso: &str,
) -> Result<(&'a Destination, &'a Region, Vec<&'a Plan>)> {
    let destination = catalogue.destination(iso).ok_or(Error::NotFound("destination"))?;
    let region = catalogue.region(&destination.region_id).ok_or(Error::NotFound("region"))?;
    Ok((destination, region, catalogue.plans_covering(&destination.iso)))
}

/// A plan by id as it appears in a URL; a malformed id is simply not found.
pub fn plan<'a>(catalogue: &'a Catalogue, id: &str) -> Result<&'a Plan> {
    Uuid::parse_str(id).ok().and_then(|id| catalogue.plan(id)).ok_or(Error::NotFound("plan"))
}

/// The plan listing's filters, read strictly from the query string.
pub fn plan_filter(catalogue: &Catalogue, params: &Params) -> Result<PlanFilter> {
    let destination = match params.text("destination")? {
        None => None,
        Some(iso) => Some(
            catalogue
                .destination(&iso)
                .ok_or_else(|| {
                    ParamError::new("destination", "unknown destination; use an ISO 3166-1 alpha-2 code such as JP")
                        .hint("use a country we sell plans for, by its two-letter code such as JP")
                })?
                .iso
                .clone(),
        ),
    };
    Ok(PlanFilter {
        destination,
        region: region_param(catalogue, params, "region")?.map(|r| r.id.clone()),
        kind: plan_kind(params)?,
        min_days: params.int("min_days", 1, 365)?,
        max_price_minor: params.int("max_price", 1, 100_000_000)?,
        unlimited: params.bool("unlimited")?,
    })
}

/// A plan list's sort and feature filters (`sort`, `unlimited`, `hotspot`, `5g`, `on_arrival`),
/// read strictly: an unknown sort or a flag that is not true/false is a 400 naming it.
pub fn plan_view(params: &Params) -> Result<PlanView> {
    let flag = |name: &str| params.bool(name).map(|v| v.unwrap_or(false));
    Ok(PlanView {
        sort: params
            .one_of("sort")
            .map_err(|e| e.hint("choose an order from the “Sort by” list on the page"))?
            .unwrap_or_default(),
        features: PlanFeatures {
            unlimited: flag("unlimited")?,
            hotspot: flag("hotspot")?,
            five_g: flag("5g")?,
            on_arrival: flag("on_arrival")?,
        },
    })
}

/// `type`: a plan kind, explained by its labels when it is not one.
fn plan_kind(params: &Params) -> Result<Option<PlanKind>, ParamError> {
    params.one_of("type").map_err(|e| {
        let labels: Vec<&str> = PlanKind::ALL.iter().map(|k| k.label()).collect();
        e.hint(format!("choose one of {}", or_list(&labels)))
    })
}

/// The multi-country plans of a list page: one kind (`type=regional` or `global`), or both.
pub fn multi_country_plans<'a>(catalogue: &'a Catalogue, params: &Params) -> Result<(Option<PlanKind>, Vec<&'a Plan>)> {
    let kind = plan_kind(params)?;
    let plans = match kind {
        Some(kind) => catalogue.plans_of_kind(kind),
        None => {
            let mut plans = catalogue.plans_of_kind(PlanKind::Regional);
            plans.extend(catalogue.plans_of_kind(PlanKind::Global));
            plans
        }
    };
    Ok((kind, plans))
}
