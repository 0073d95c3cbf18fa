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
mod tests {
    use super::*;
    use crate::domain::Region;

    fn catalogue() -> Catalogue {
        let region = |id: &str, name: &str| Region { id: id.into(), name: name.into(), sort_order: 0 };
        let destination = |iso: &str, name: &str, region: &str| Destination {
            iso: iso.into(),
            name: name.into(),
            aliases: vec![],
            region_id: region.into(),
            popularity_rank: None,
        };
        Catalogue::new(
            vec![region("europe", "Europe"), region("asia", "Asia")],
            vec![
                destination("JP", "Japan", "asia"),
                destination("FR", "France", "europe"),
                destination("DE", "Germany", "europe"),
            ],
            vec![],
        )
    }

    fn local_plan() -> PlanInput {
        PlanInput {
            name: "Japan 10 GB".into(),
            destination: "jp".into(),
            data: "10240".into(),
            validity_days: "30".into(),
            price: "12.99".into(),
            ..PlanInput::new_plan()
        }
    }

    fn errors_of(result: Result<Plan, Vec<FieldError>>) -> Vec<&'static str> {
        result.err().unwrap_or_default().iter().map(|e| e.field).collect()
    }

    #[test]
    fn prices_are_decimals_in_the_major_unit_turned_into_minor_units() {
        assert_eq!(parse_price("12.99", "USD"), Ok(1299));
        assert_eq!(parse_price(" 12.9 ", "USD"), Ok(1290));
        assert_eq!(parse_price("12", "USD"), Ok(1200));
        assert_eq!(parse_price("0.01", "USD"), Ok(1));
        assert_eq!(parse_price("1500", "JPY"), Ok(1500));
        assert_eq!(parse_price("1000000.00", "USD"), Ok(100_000_000));
        for (typed, message) in [
            ("12.999", "at most 2 decimals"),
            ("-1", "more than zero"),
            ("0", "more than zero"),
            ("0.00", "more than zero"),
            ("abc", "as a number"),
            ("12,99", "as a number"),
            ("1e3", "as a number"),
            ("12.", "as a number"),
            (".5", "as a number"),
            ("+5", "as a number"),
            ("", "Enter the price"),
            ("1000000.01", "too high"),
            ("99999999999999999999999", "too high"),
        ] {
            let error = parse_price(typed, "USD").expect_err(typed);
            assert!(error.contains(message), "{typed}: {error}");
        }
        assert!(parse_price("15.5", "JPY").unwrap_err().contains("no decimals"));
    }

    #[test]
    fn a_good_local_plan_covers_its_destination() {
        let id = Uuid::new_v4();
        let plan = plan(&local_plan(), id, &catalogue()).unwrap();
        assert_eq!(plan.id, id);
        assert_eq!(plan.destination_iso.as_deref(), Some("JP"));
        assert_eq!(plan.region_id, None);
        assert_eq!(plan.coverage, vec!["JP"]);
        assert_eq!(plan.data, DataAllowance::Limited { mb: 10240 });
        assert_eq!(plan.price, Money::new(1299, "USD"));
        assert!(plan.on_sale && !plan.hotspot);
        let typed = PlanInput { coverage: "JP".into(), ..local_plan() };
        assert_eq!(super::plan(&typed, id, &catalogue()).unwrap().coverage, vec!["JP"]);
    }

    #[test]
    fn a_regional_unlimited_plan_needs_its_region_coverage_and_fair_use() {
        let input = PlanInput {
            kind: "regional".into(),
            destination: String::new(),
            region: "europe".into(),
            coverage: "fr, de;FR  de".into(),
            data: "Unlimited".into(),
            fair_use_mb: "2048".into(),
            throttle_kbps: "512".into(),
            operators: " Orange , orange, Telekom ,".into(),
            sim_card_group_id: "3fa85f64-5717-4562-b3fc-2c963f66afa6".into(),
            network_generation: "5g".into(),
            ..local_plan()
        };
        let plan = plan(&input, Uuid::new_v4(), &catalogue()).unwrap();
        assert_eq!(plan.coverage, vec!["DE", "FR"]);
        assert_eq!(plan.region_id.as_deref(), Some("europe"));
        assert_eq!(plan.data, DataAllowance::Unlimited { fair_use_mb: 2048, throttle_kbps: 512 });
        assert_eq!(plan.operators, vec!["Orange", "Telekom"]);
        assert_eq!(plan.network_generation, "5G");
        assert!(plan.sim_card_group_id.is_some());

        let bare = PlanInput { region: String::new(), coverage: String::new(), fair_use_mb: String::new(), ..input };
        assert_eq!(errors_of(super::plan(&bare, Uuid::new_v4(), &catalogue())), ["region", "coverage", "fair_use_mb"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases: Vec<(PlanInput, &str)> = vec![
            (PlanInput { name: "  ".into(), ..local_plan() }, "name"),
            (PlanInput { name: "x".repeat(121), ..local_plan() }, "name"),
            (PlanInput { kind: "national".into(), ..local_plan() }, "kind"),
            (PlanInput { destination: String::new(), ..local_plan() }, "destination"),
            (PlanInput { destination: "XX".into(), ..local_plan() }, "destination"),
            (PlanInput { region: "europe".into(), ..local_plan() }, "region"),
            (PlanInput { kind: "global".into(), coverage: "FR".into(), ..local_plan() }, "destination"),
            (PlanInput { coverage: "JP, FR".into(), ..local_plan() }, "coverage"),
            (PlanInput { coverage: "ZZ".into(), ..local_plan() }, "coverage"),
            (PlanInput { data: "".into(), ..local_plan() }, "data"),
            (PlanInput { data: "0".into(), ..local_plan() }, "data"),
            (PlanInput { data: "10 GB".into(), ..local_plan() }, "data"),
            (PlanInput { data: "unlimited".into(), throttle_kbps: "512".into(), ..local_plan() }, "fair_use_mb"),
            (PlanInput { data: "unlimited".into(), fair_use_mb: "1024".into(), ..local_plan() }, "throttle_kbps"),
            (PlanInput { fair_use_mb: "1024".into(), ..local_plan() }, "fair_use_mb"),
            (PlanInput { validity_days: "0".into(), ..local_plan() }, "validity_days"),
            (PlanInput { validity_days: "366".into(), ..local_plan() }, "validity_days"),
            (PlanInput { price: "12.999".into(), ..local_plan() }, "price"),
            (PlanInput { currency: "US".into(), ..local_plan() }, "currency"),
            (PlanInput { currency: "usd".into(), price: "12.5".into(), ..local_plan() }, ""),
            (PlanInput { currency: "JPY".into(), price: "12.5".into(), ..local_plan() }, "price"),
            (PlanInput { validity_start: "later".into(), ..local_plan() }, "validity_start"),
            (PlanInput { network_generation: "6G".into(), ..local_plan() }, "network_generation"),
            (PlanInput { operators: "x".repeat(61), ..local_plan() }, "operators"),
            (PlanInput { sim_card_group_id: "not-a-uuid".into(), ..local_plan() }, "sim_card_group_id"),
            (PlanInput { fine_print: "x".repeat(4001), ..local_plan() }, "fine_print"),
        ];
        for (input, field) in cases {
            let fields = errors_of(plan(&input, Uuid::new_v4(), &catalogue()));
            let expected: Vec<&str> = if field.is_empty() { vec![] } else { vec![field] };
            assert_eq!(fields, expected, "{input:?}");
        }
    }

    #[test]
    fn a_plan_form_round_trips_through_a_plan() {
        let plan = plan(&local_plan(), Uuid::new_v4(), &catalogue()).unwrap();
        let again = super::plan(&PlanInput::of(&plan), plan.id, &catalogue()).unwrap();
        assert_eq!(again, plan);
    }

    #[test]
    fn a_new_destination_needs_a_free_code_and_name_and_a_region() {
        let input = DestinationInput {
            iso: " pt ".into(),
            name: "Portugal".into(),
            aliases: "Portuguese Republic, , portuguese republic, Madeira".into(),
            region: "europe".into(),
            popularity_rank: "".into(),
        };
        let d = destination(&input, None, &catalogue()).unwrap();
        assert_eq!(d.iso, "PT");
        assert_eq!(d.aliases, vec!["Portuguese Republic", "Madeira"]);
        assert_eq!(d.popularity_rank, None);
        let fields = |input: DestinationInput| -> Vec<&'static str> {
            destination(&input, None, &catalogue()).err().unwrap_or_default().iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(DestinationInput { iso: "PRT".into(), ..input.clone() }), ["iso"]);
        assert_eq!(fields(DestinationInput { iso: "P1".into(), ..input.clone() }), ["iso"]);
        assert_eq!(fields(DestinationInput { iso: "jp".into(), ..input.clone() }), ["iso"]);
        assert_eq!(fields(DestinationInput { name: "japan".into(), ..input.clone() }), ["name"]);
        assert_eq!(fields(DestinationInput { region: "atlantis".into(), ..input.clone() }), ["region"]);
        assert_eq!(fields(DestinationInput { popularity_rank: "0".into(), ..input.clone() }), ["popularity_rank"]);
        assert_eq!(fields(DestinationInput { popularity_rank: "-3".into(), ..input.clone() }), ["popularity_rank"]);
        assert_eq!(fields(DestinationInput { popularity_rank: "2".into(), ..input.clone() }), Vec::<&str>::new());
    }

    #[test]
    fn an_edited_destination_keeps_its_code_and_may_keep_its_name() {
        let c = catalogue();
        let japan = c.destination("JP").unwrap();
        let input = DestinationInput { iso: "XX".into(), popularity_rank: "1".into(), ..DestinationInput::of(japan) };
        let d = destination(&input, Some(japan), &c).unwrap();
        assert_eq!((d.iso.as_str(), d.name.as_str(), d.popularity_rank), ("JP", "Japan", Some(1)));
        let taken = DestinationInput { name: "France".into(), ..input };
        assert_eq!(destination(&taken, Some(japan), &c).unwrap_err()[0].field, "name");
    }
}
