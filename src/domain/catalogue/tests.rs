//! Unit tests of the catalogue snapshot: indexes, search ranking and plan filters.

use super::*;

fn region(id: &str, order: i32) -> Region {
    Region { id: id.into(), name: id.to_uppercase(), sort_order: order }
}

fn dest(iso: &str, name: &str, aliases: &[&str], region: &str, rank: Option<i32>) -> Destination {
    Destination {
        iso: iso.into(),
        name: name.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        region_id: region.into(),
        popularity_rank: rank,
    }
}

fn plan(name: &str, kind: PlanKind, coverage: &[&str], mb: Option<u32>, days: u32, cents: i64) -> Plan {
    Plan {
        id: Uuid::new_v4(),
        kind,
        name: name.into(),
        destination_iso: (kind == PlanKind::Local).then(|| coverage[0].to_string()),
        region_id: (kind == PlanKind::Regional).then(|| "europe".to_string()),
        data: match mb {
            Some(mb) => DataAllowance::Limited { mb },
            None => DataAllowance::Unlimited { fair_use_mb: 2048, throttle_kbps: 512 },
        },
        validity_days: days,
        price: Money::new(cents, "USD"),
        validity_start: ValidityStart::FirstConnection,
        hotspot: true,
        network_generation: "5G".into(),
        operators: vec![],
        top_up: false,
        on_sale: true,
        sim_card_group_id: None,
        fine_print: String::new(),
        coverage: coverage.iter().map(|c| c.to_string()).collect(),
    }
}

fn sample() -> Catalogue {
    let mut retired = plan("France 1 GB", PlanKind::Local, &["FR"], Some(1024), 7, 100);
    retired.on_sale = false;
    Catalogue::new(
        vec![region("asia", 2), region("europe", 1)],
        vec![
            dest("TR", "Türkiye", &["Turkey"], "europe", Some(3)),
            dest("GB", "United Kingdom", &["UK", "Great Britain"], "europe", Some(1)),
            dest("FR", "France", &[], "europe", None),
            dest("JP", "Japan", &[], "asia", Some(2)),
        ],
        vec![
            plan("Europe 10 GB", PlanKind::Regional, &["FR", "GB", "TR"], Some(10240), 30, 2200),
            plan("UK 3 GB", PlanKind::Local, &["GB"], Some(3072), 30, 900),
            plan("UK Unlimited", PlanKind::Local, &["GB"], None, 10, 3900),
            plan("Global 5 GB", PlanKind::Global, &["JP", "GB", "FR", "TR"], Some(5120), 30, 2400),
            plan("Japan 1 GB", PlanKind::Local, &["JP"], Some(1024), 7, 450),
            retired,
        ],
    )
}

#[test]
fn regions_are_in_display_order_and_destinations_by_folded_name() {
    let c = sample();
    let ids: Vec<_> = c.regions().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["europe", "asia"]);
    let names: Vec<_> = c.destinations().iter().map(|d| d.iso.as_str()).collect();
    assert_eq!(names, ["FR", "JP", "TR", "GB"], "Türkiye sorts as Turkiye");
}

#[test]
fn search_matches_aliases_codes_and_accents() {
    let c = sample();
    let isos = |q: &str| c.search_destinations(q, None).iter().map(|d| d.iso.clone()).collect::<Vec<_>>();
    assert_eq!(isos("UK"), ["GB"]);
    assert_eq!(isos("turkey"), ["TR"]);
    assert_eq!(isos("TURKIYE"), ["TR"]);
    assert_eq!(isos("türk"), ["TR"]);
    assert_eq!(isos("jp"), ["JP"]);
    assert_eq!(isos("britain"), ["GB"]);
    assert!(isos("atlantis").is_empty());
    assert_eq!(c.search_destinations("", Some("asia")).len(), 1);
    assert_eq!(c.search_destinations("", None).len(), 4);
}

#[test]
fn exact_matches_rank_before_prefix_matches() {
    let c = Catalogue::new(
        vec![region("europe", 1)],
        vec![dest("IE", "Ireland", &[], "europe", None), dest("IS", "Iceland", &["Island"], "europe", None)],
        vec![],
    );
    let hits: Vec<_> = c.search_destinations("is", None).iter().map(|d| d.iso.clone()).collect();
    assert_eq!(hits, ["IS"], "the ISO code matches exactly; Ireland does not match 'is'");
    let hits: Vec<_> = c.search_destinations("i", None).iter().map(|d| d.iso.clone()).collect();
    assert_eq!(hits, ["IS", "IE"], "equal scores keep alphabetical order");
}

#[test]
fn plans_covering_a_country_include_regional_and_global_sorted_by_price() {
    let c = sample();
    let names: Vec<_> = c.plans_covering("gb").iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["UK 3 GB", "Europe 10 GB", "Global 5 GB", "UK Unlimited"]);
    assert_eq!(c.cheapest_plan("GB").unwrap().name, "UK 3 GB");
    let europe = c.plans_of_kind(PlanKind::Regional)[0];
    let names: Vec<_> = c.coverage_of(europe).iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["France", "Türkiye", "United Kingdom"], "coverage by name");
    assert!(c.plans_covering("FR").iter().all(|p| p.on_sale), "retired plans are not listed");
    assert!(c.plans_covering("XX").is_empty());
}

#[test]
fn retired_plans_are_found_by_id_but_not_listed() {
    let c = sample();
    let retired = c.plans.iter().find(|p| !p.on_sale).unwrap();
    assert_eq!(c.plan(retired.id).unwrap().name, "France 1 GB");
    assert_eq!(c.plans_on_sale(), 5);
}

#[test]
fn filters_combine() {
    let c = sample();
    let names = |f: PlanFilter| c.filter_plans(&f).iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(PlanFilter { unlimited: Some(true), ..Default::default() }), ["UK Unlimited"]);
    assert_eq!(
        names(PlanFilter { region: Some("asia".into()), ..Default::default() }),
        ["Japan 1 GB"],
        "region covers local plans of its countries"
    );
    assert_eq!(
        names(PlanFilter { destination: Some("jp".into()), max_price_minor: Some(2400), ..Default::default() }),
        ["Japan 1 GB", "Global 5 GB"]
    );
    assert_eq!(
        names(PlanFilter { kind: Some(PlanKind::Local), min_days: Some(30), ..Default::default() }),
        ["UK 3 GB"]
    );
}

#[test]
fn plan_labels() {
    let c = sample();
    let europe = c.plans_of_kind(PlanKind::Regional)[0];
    assert_eq!(europe.data_label(), "10 GB");
    assert_eq!(europe.validity_label(), "30 days");
    assert_eq!(europe.price_per_gb_label(), "$2.20/GB");
    let unlimited = c.filter_plans(&PlanFilter { unlimited: Some(true), ..Default::default() })[0];
    assert_eq!(unlimited.data_label(), "Unlimited");
    assert_eq!(unlimited.price_per_gb(), None);
    assert!(unlimited.fair_use_label().unwrap().contains("2 GB each day, then 512 kbps"));
    assert_eq!(format_mb(512), "512 MB");
    assert_eq!(format_mb(1536), "1.5 GB");
}

#[test]
fn flags_come_from_the_iso_code() {
    let c = sample();
    let japan = c.destination("jp").unwrap();
    assert_eq!(japan.flag_file(), "flags/jp.svg");
    assert_eq!(japan.flag(), "🇯🇵");
    assert_eq!(c.destination("JP").unwrap().slug(), "jp");
}

#[test]
fn a_flag_path_is_built_only_from_a_shipped_two_letter_code() {
    let with_iso = |iso: &str| Destination { iso: iso.into(), ..dest("JP", "X", &[], "asia", None) };
    assert_eq!(flag_code("GB"), Some("gb"));
    assert_eq!(with_iso("Gb").flag_file(), "flags/gb.svg");
    assert_eq!(with_iso("MX").flag_file(), "flags/mx.png", "a heavy SVG is linked as its PNG");
    // Valid codes without a shipped flag, and anything that is not two letters, get the globe.
    for iso in ["ZZ", "XK", "", "J", "JPN", "../", "j/", "jp.svg", "ÿp", "..", "%2e"] {
        assert_eq!(flag_code(iso), None, "{iso:?}");
        assert_eq!(with_iso(iso).flag_file(), NEUTRAL_FLAG_FILE, "{iso:?}");
    }
    assert!(FLAG_CODES.windows(2).all(|w| w[0] < w[1]), "sorted, for the binary search");
    assert!(FLAG_CODES.iter().all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_lowercase())));
    // The emoji never panics on a code that is not letters.
    assert_eq!(with_iso("1!").flag(), "");
}

#[test]
fn enums_parse_their_wire_names_and_explain_bad_ones() {
    assert_eq!("regional".parse::<PlanKind>(), Ok(PlanKind::Regional));
    assert_eq!("installation".parse::<ValidityStart>(), Ok(ValidityStart::Installation));
    assert_eq!("weekly".parse::<PlanKind>().unwrap_err(), "must be one of: local, regional, global");
}
