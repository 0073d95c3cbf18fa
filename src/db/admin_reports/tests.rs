//! Unit tests of `admin_reports`: LIKE patterns and the order list's sorts.

use super::*;

#[test]
fn like_patterns_take_the_text_literally() {
    assert_eq!(contains_pattern("Ann"), "%ann%");
    assert_eq!(contains_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
}

#[test]
fn sorts_round_trip() {
    for s in OrderSort::ALL {
        assert_eq!(s.as_str().parse::<OrderSort>().unwrap(), *s);
    }
    assert!("price".parse::<OrderSort>().unwrap_err().contains("amount_desc"));
}
