//! The pure checks that turn the admin catalogue forms into a destination or a plan, with one
//! clear message per bad field (the field names are the form's).

use uuid::Uuid;

use super::input::{DestinationInput, PlanInput};
use crate::domain::{Catalogue, DataAllowance, Destination, Money, Plan, PlanKind, ValidityStart};
use crate::error::FieldError;

/// The highest price accepted, in minor units: a typo guard far above any eSIM plan.
const MAX_PRICE_MINOR: i64 = 100_000_000;
const MAX_LIST_ITEMS: usize = 30;
const MAX_FINE_PRINT: usize = 4000;

/// Collects the messages of one form; each check yields its value when the field is good.
#[derive(Default)]
struct Checker(Vec<FieldError>);

impl Checker {
    fn check<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.0.push(FieldError::new(field, message))).ok()
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(self.0),
        }
    }
}

/// Trimmed text of `1..=max` characters.
fn text(value: &str, what: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    match value.chars().count() {
        0 => Err(format!("Enter the {what}.")),
        n if n > max => Err(format!("Use at most {max} characters (this has {n}).")),
        _ if value.chars().any(char::is_control) => Err("Remove the control characters.".into()),
        _ => Ok(value.to_string()),
    }
}

/// A comma-separated list: trimmed, empty items dropped, duplicates (ignoring case) dropped.
fn list(value: &str, max_len: usize) -> Result<Vec<String>, String> {
    let mut items: Vec<String> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if item.chars().count() > max_len {
            return Err(format!("“{item}” is too long: at most {max_len} characters each."));
        }
        if item.chars().any(char::is_control) {
            return Err("Remove the control characters.".into());
        }
        if !items.iter().any(|i| i.to_lowercase() == item.to_lowercase()) {
            items.push(item.to_string());
        }
    }
    if items.len() > MAX_LIST_ITEMS {
        return Err(format!("List at most {MAX_LIST_ITEMS}."));
    }
    Ok(items)
}

/// A whole number within `1..=max`, or `None` for an empty field.
fn optional_count(value: &str, max: u32, range: &str) -> Result<Option<u32>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(range.to_string()),
    }
}

fn required_count(value: &str, max: u32, range: &str, missing: &str) -> Result<u32, String> {
    optional_count(value, max, range)?.ok_or_else(|| missing.to_string())
}

/// An ISO 3166-1 alpha-2 code in any case, upper-cased.
fn iso_code(value: &str) -> Result<String, String> {
    let code = value.trim().to_ascii_uppercase();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("Enter the 2-letter ISO 3166-1 code, such as JP.".into())
    }
}

/// A price typed in the currency's major unit (`12.99`) as integer minor units (`1299`), through
/// the one money parser, capped at what the catalogue sells.
pub fn parse_price(value: &str, currency: &str) -> Result<i64, String> {
    let price = Money::parse_major_named(value, currency, "price")?;
    if price.minor > MAX_PRICE_MINOR {
        return Err(format!("That is too high: at most {}.", MAX_PRICE_MINOR / 10i64.pow(price.exponent())));
    }
    Ok(price.minor)
}

/// Checks a destination form. `existing` is the destination being edited (its ISO code stays);
/// `None` creates one. `catalogue` is the current snapshot: regions and the names and codes taken.
pub fn destination(
    input: &DestinationInput,
    existing: Option<&Destination>,
    catalogue: &Catalogue,
) -> Result<Destination, Vec<FieldError>> {
    let mut c = Checker::default();
    let iso = match existing {
        Some(d) => Some(d.iso.clone()),
        None => c.check(
            "iso",
            iso_code(&input.iso).and_then(|iso| match catalogue.destination(&iso) {
                Some(taken) => Err(format!("{} already has the code {iso}.", taken.name)),
                None => Ok(iso),
            }),
        ),
    };
    let name = c.check(
        "name",
        text(&input.name, "destination's name", 80).and_then(|name| {
            let clash = catalogue
                .destinations()
                .iter()
                .find(|d| d.name.to_lowercase() == name.to_lowercase() && Some(d.iso.as_str()) != iso.as_deref());
            match clash {
                Some(d) => Err(format!("{} ({}) already has this name.", d.name, d.iso)),
                None => Ok(name),
            }
        }),
    );
    let aliases = c.check("aliases", list(&input.aliases, 80));
    let region = c.check("region", region(catalogue, &input.region));
    let rank = c.check(
        "popularity_rank",
        optional_count(
            &input.popularity_rank,
            i32::MAX as u32,
            "Enter a whole number of 1 or more, or leave it empty.",
        ),
    );
    let value = (|| {
        Some(Destination {
            iso: iso?,
            name: name?,
            aliases: aliases?,
            region_id: region?,
            popularity_rank: rank?.map(|r| r as i32),
        })
    })();
    c.finish(value)
}

fn region(catalogue: &Catalogue, id: &str) -> Result<String, String> {
    match id.trim() {
        "" => Err("Choose a region.".into()),
        id => catalogue.region(id).map(|r| r.id.clone()).ok_or_else(|| "Choose one of the regions.".into()),
    }
}

/// The ISO codes of a coverage list, each a known destination; sorted, without duplicates.
fn coverage(catalogue: &Catalogue, value: &str) -> Result<Vec<String>, String> {
    let mut codes: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for code in value.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|c| !c.is_empty()) {
        let code = code.to_ascii_uppercase();
        if catalogue.destination(&code).is_some() && code.len() == 2 {
            codes.push(code);
        } else {
            unknown.push(code);
        }
    }
    if !unknown.is_empty() {
        return Err(format!("No destination has the code {}. Use ISO codes such as FR, DE, IT.", unknown.join(", ")));
    }
    codes.sort();
    codes.dedup();
    Ok(codes)
}

/// Checks a plan form into the plan with id `id`, coverage included. `catalogue` is the
/// current snapshot: its regions and destinations are the ones a plan may refer to.
pub fn plan(input: &PlanInput, id: Uuid, catalogue: &Catalogue) -> Result<Plan, Vec<FieldError>> {
    let mut c = Checker::default();
    let name = c.check("name", text(&input.name, "plan's name", 120));
    let kind =
        c.check("kind", input.kind.trim().parse::<PlanKind>().map_err(|_| "Choose local, regional or global.".into()));
    let place = kind.and_then(|kind| place(&mut c, input, kind, catalogue));
    let data = match c.check("data", data_amount(&input.data)) {
        Some(Some(mb)) => {
            for (field, value) in [("fair_use_mb", &input.fair_use_mb), ("throttle_kbps", &input.throttle_kbps)] {
                if !value.trim().is_empty() {
                    c.check::<()>(field, Err("Only an unlimited plan has a fair-use limit: leave this empty.".into()));
                }
            }
            Some(DataAllowance::Limited { mb })
        }
        Some(None) => {
            let fair_use_mb = c.check(
                "fair_use_mb",
                required_count(
                    &input.fair_use_mb,
                    i32::MAX as u32,
                    "Enter the daily fair-use amount as a whole number of MB.",
                    "An unlimited plan needs its daily fair-use amount, in MB.",
                ),
            );
            let throttle_kbps = c.check(
                "throttle_kbps",
                required_count(
                    &input.throttle_kbps,
                    i32::MAX as u32,
                    "Enter the throttled speed as a whole number of kbps.",
                    "An unlimited plan needs the speed it slows to after the fair-use amount, in kbps.",
                ),
            );
            fair_use_mb
                .zip(throttle_kbps)
                .map(|(fair_use_mb, throttle_kbps)| DataAllowance::Unlimited { fair_use_mb, throttle_kbps })
        }
        None => None,
    };
    let validity_days = c.check(
        "validity_days",
        required_count(
            &input.validity_days,
            365,
            "Enter a number of days from 1 to 365.",
            "Enter how many days the plan is valid, from 1 to 365.",
        ),
    );
    let currency = c.check("currency", {
        let code = input.currency.trim().to_ascii_uppercase();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(code)
        } else {
            Err("Enter the 3-letter ISO 4217 currency code, such as USD.".into())
        }
    });
    let price = c.check("price", parse_price(&input.price, currency.as_deref().unwrap_or_default()));
    let validity_start = c.check(
        "validity_start",
        input.validity_start.trim().parse::<ValidityStart>().map_err(|_| "Choose when the validity starts.".into()),
    );
    let network = c.check(
        "network_generation",
        match input.network_generation.trim().to_ascii_uppercase().as_str() {
            g @ ("3G" | "4G" | "5G") => Ok(g.to_string()),
            _ => Err("Choose 3G, 4G or 5G.".into()),
        },
    );
    let operators = c.check("operators", list(&input.operators, 60));
    let group = c.check("sim_card_group_id", match input.sim_card_group_id.trim() {
        "" => Ok(None),
        g => Uuid::parse_str(g).map(Some).map_err(|_| {
            "Enter the SIM card group's id, a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, or leave it empty.".into()
        }),
    });
    let fine_print = input.fine_print.replace("\r\n", "\n").trim().to_string();
    let fine_print = c.check(
        "fine_print",
        match fine_print.chars().count() {
            n if n > MAX_FINE_PRINT => Err(format!("Use at most {MAX_FINE_PRINT} characters (this has {n}).")),
            _ => Ok(fine_print),
        },
    );
    let value = (|| {
        Some(Plan {
            id,
            kind: kind?,
            name: name?,
            destination_iso: place.as_ref()?.destination.clone(),
            region_id: place.as_ref()?.region.clone(),
            data: data?,
            validity_days: validity_days?,
            price: Money::new(price?, currency?),
            validity_start: validity_start?,
            hotspot: input.hotspot,
            network_generation: network?,
            operators: operators?,
            top_up: input.top_up,
            on_sale: input.on_sale,
            sim_card_group_id: group?,
            fine_print: fine_print?,
            coverage: place?.coverage,
        })
    })();
    c.finish(value)
}

/// Where a plan works.
struct Place {
    destination: Option<String>,
    region: Option<String>,
    coverage: Vec<String>,
}

/// Where a plan of `kind` works: its country (local), its region (regional) and its coverage.
fn place(c: &mut Checker, input: &PlanInput, kind: PlanKind, catalogue: &Catalogue) -> Option<Place> {
    let only_for = |what: &str, of: PlanKind| {
        Err(format!("Only a {} plan has a {what}: leave it empty for a {} plan.", of.as_str(), kind.as_str()))
    };
    let destination = match (kind, input.destination.trim()) {
        (PlanKind::Local, "") => c.check("destination", Err("Choose the country of this local plan.".into())),
        (PlanKind::Local, iso) => c.check(
            "destination",
            catalogue
                .destination(iso)
                .map(|d| Some(d.iso.clone()))
                .ok_or_else(|| format!("No destination has the code {iso}.")),
        ),
        (_, "") => Some(None),
        (_, _) => c.check("destination", only_for("destination", PlanKind::Local)),
    };
    let region = match (kind, input.region.trim()) {
        (PlanKind::Regional, id) => c.check("region", region(catalogue, id).map(Some)),
        (_, "") => Some(None),
        (_, _) => c.check("region", only_for("region", PlanKind::Regional)),
    };
    let codes = c.check("coverage", coverage(catalogue, &input.coverage));
    let coverage = match (kind, codes, &destination) {
        (_, None, _) | (PlanKind::Local, _, None | Some(None)) => None,
        (PlanKind::Local, Some(codes), Some(Some(iso))) => c.check(
            "coverage",
            match codes.as_slice() {
                [] => Ok(vec![iso.clone()]),
                [only] if only == iso => Ok(codes),
                _ => Err(format!("A local plan covers exactly its destination: leave this empty or enter {iso}.")),
            },
        ),
        (_, Some(codes), _) if codes.is_empty() => c.check(
            "coverage",
            Err("List the ISO codes of the countries the plan works in, such as FR, DE, IT.".into()),
        ),
        (_, Some(codes), _) => Some(codes),
    };
    Some(Place { destination: destination?, region: region?, coverage: coverage? })
}

/// `unlimited` (`None`) or a whole number of megabytes.
fn data_amount(value: &str) -> Result<Option<u32>, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    match value.parse::<u32>() {
        Ok(mb) if mb >= 1 && mb <= i32::MAX as u32 => Ok(Some(mb)),
        _ => Err("Enter the data in MB (1024 MB = 1 GB), or unlimited.".into()),
    }
}

#[cfg(test)]
mod tests;
