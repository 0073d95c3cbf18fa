//! Query-string parameters, read strictly: a value that does not parse is an error naming
//! the parameter and the reason, never silently ignored.

use std::str::FromStr;

/// A parameter that could not be accepted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: String,
    /// Why, for a developer: the API's `reason` ("must be true or false").
    pub reason: String,
    /// What a person should do instead, in plain words, for a page ("choose one of Europe,
    /// Asia or Africa"); without one, pages fall back on `reason`.
    pub hint: Option<String>,
}

impl ParamError {
    pub fn new(param: &str, reason: impl Into<String>) -> Self {
        Self { param: param.to_string(), reason: reason.into(), hint: None }
    }

    /// The same error with the plain-words advice a page shows.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// `a`, `a or b`, `a, b or c`: a list of choices as a sentence says it.
pub fn or_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} or {}", init.join(", "), last.as_ref())
        }
    }
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.param, self.reason)
    }
}

/// The raw `name=value` pairs of a query string. An empty value counts as absent, so a
/// form submitted with an empty field behaves like one without it.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl From<Vec<(String, String)>> for Params {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }
}

const MAX_TEXT: usize = 100;

impl Params {
    fn get(&self, name: &str) -> Result<Option<&str>, ParamError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim());
        let first = values.next();
        if values.next().is_some() {
            return Err(ParamError::new(name, "must be given at most once").hint("give it only once"));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// Free text of at most 100 characters, without control characters.
    pub fn text(&self, name: &str) -> Result<Option<String>, ParamError> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        if v.chars().count() > MAX_TEXT {
            return Err(ParamError::new(name, format!("must be at most {MAX_TEXT} characters"))
                .hint(format!("use at most {MAX_TEXT} characters")));
        }
        if v.chars().any(char::is_control) {
            return Err(ParamError::new(name, "must not contain control characters")
                .hint("use only letters, digits, spaces and punctuation"));
        }
        Ok(Some(v.to_string()))
    }

    /// A whole number within `min..=max`.
    pub fn int<T>(&self, name: &str, min: T, max: T) -> Result<Option<T>, ParamError>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        let range = || {
            ParamError::new(name, format!("must be a whole number from {min} to {max}"))
                .hint(format!("use a whole number from {min} to {max}"))
        };
        let n: T = v.parse().map_err(|_| range())?;
        if n < min || n > max {
            return Err(range());
        }
        Ok(Some(n))
    }

    /// `true` or `false` (also `1`/`0`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ParamError> {
        match self.get(name)? {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(ParamError::new(name, "must be true or false")
                .hint("it can only be switched on or off: use the checkbox on the page")),
        }
    }

    /// One of an enum's wire names.
    pub fn one_of<E: FromStr<Err = String>>(&self, name: &str) -> Result<Option<E>, ParamError> {
        self.get(name)?.map(|v| v.parse::<E>().map_err(|reason| ParamError::new(name, reason))).transpose()
    }
}

/// A page of a list: 1-based page number and page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub per_page: u32,
}

impl Paging {
    pub const DEFAULT_PER_PAGE: u32 = 20;
    pub const MAX_PER_PAGE: u32 = 100;

    pub fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Self {
            page: params.int("page", 1, 100_000)?.unwrap_or(1),
            per_page: params.int("per_page", 1, Self::MAX_PER_PAGE)?.unwrap_or(Self::DEFAULT_PER_PAGE),
        })
    }

    /// The items of this page (empty past the end).
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = ((self.page - 1) as usize).saturating_mul(self.per_page as usize);
        let end = start.saturating_add(self.per_page as usize).min(items.len());
        items.get(start..end).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PlanKind;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
    }

    #[test]
    fn integers_are_range_checked_with_the_parameter_named() {
        let p = params(&[("per_page", "500"), ("page", "two"), ("min_days", "7")]);
        let err = Paging::from_params(&p).unwrap_err();
        assert_eq!(err.param, "page");
        assert_eq!(err.reason, "must be a whole number from 1 to 100000");
        assert_eq!(p.int::<u32>("per_page", 1, 100).unwrap_err().reason, "must be a whole number from 1 to 100");
        assert_eq!(p.int::<u32>("min_days", 1, 365), Ok(Some(7)));
        assert_eq!(p.int::<u32>("absent", 1, 365), Ok(None));
    }

    #[test]
    fn empty_values_are_absent_and_repeats_are_rejected() {
        let p = params(&[("q", ""), ("region", "asia"), ("region", "europe")]);
        assert_eq!(p.text("q"), Ok(None));
        assert_eq!(p.text("region").unwrap_err().reason, "must be given at most once");
    }

    #[test]
    fn text_is_bounded_and_clean() {
        let long = "x".repeat(101);
        assert!(params(&[("q", &long)]).text("q").is_err());
        assert!(params(&[("q", "a\u{0}b")]).text("q").is_err());
        assert_eq!(params(&[("q", " Japan ")]).text("q"), Ok(Some("Japan".into())));
    }

    #[test]
    fn booleans_and_enums() {
        let p = params(&[("unlimited", "yes"), ("type", "regional"), ("kind", "weekly")]);
        assert_eq!(p.bool("unlimited").unwrap_err().reason, "must be true or false");
        assert_eq!(p.one_of::<PlanKind>("type"), Ok(Some(PlanKind::Regional)));
        assert!(p.one_of::<PlanKind>("kind").is_err());
    }

    #[test]
    fn errors_carry_plain_advice_for_pages() {
        let p = params(&[("unlimited", "yes"), ("q", "a"), ("q", "b"), ("page", "0")]);
        assert_eq!(
            p.bool("unlimited").unwrap_err().hint.as_deref(),
            Some("it can only be switched on or off: use the checkbox on the page")
        );
        assert_eq!(p.text("q").unwrap_err().hint.as_deref(), Some("give it only once"));
        assert_eq!(p.int::<u32>("page", 1, 9).unwrap_err().hint.as_deref(), Some("use a whole number from 1 to 9"));
        assert_eq!(ParamError::new("x", "is odd").hint, None);
        assert_eq!(or_list(&["Europe"]), "Europe");
        assert_eq!(or_list(&["Europe", "Asia", "Africa"]), "Europe, Asia or Africa");
        assert_eq!(or_list::<&str>(&[]), "");
    }

    #[test]
    fn paging_slices() {
        let items: Vec<u32> = (1..=45).collect();
        let page = |page, per_page| Paging { page, per_page }.slice(&items).to_vec();
        assert_eq!(page(1, 20).len(), 20);
        assert_eq!(page(3, 20), (41..=45).collect::<Vec<_>>());
        assert!(page(4, 20).is_empty());
        assert_eq!(Paging::from_params(&Params::default()).unwrap(), Paging { page: 1, per_page: 20 });
    }
}
