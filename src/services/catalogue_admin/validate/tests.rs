//! Unit tests of `validate`: every catalogue edit checked field by field.

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
