//! Stripe's form encoding: `a[b][0][c]=v` pairs (brackets raw or percent-encoded, `[]` appends)
//! parsed into a tree, read through [`Field`] views that name the parameter in their errors.

use std::collections::BTreeMap;

use super::error::ApiError;

/// One node of a decoded form body: a plain value or a map of named / indexed children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Value(String),
    Map(BTreeMap<String, Param>),
}

/// A decoded form body or query string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params(BTreeMap<String, Param>);

impl Params {
    /// Decodes `application/x-www-form-urlencoded` bytes (also a URL query string).
    pub fn parse(input: &[u8]) -> Result<Self, ApiError> {
        let mut root = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(input) {
            if key.is_empty() {
                continue;
            }
            let segments = split_key(&key)?;
            insert(&mut root, &segments, value.into_owned(), &key)?;
        }
        Ok(Self(root))
    }

    /// A view of the top-level parameter `name`.
    pub fn field<'a>(&'a self, name: &str) -> Field<'a> {
        Field { path: name.to_owned(), node: self.0.get(name) }
    }
}

/// `a[b][0]` → `["a", "b", "0"]`; `a[]` → `["a", ""]`.
fn split_key(key: &str) -> Result<Vec<&str>, ApiError> {
    let malformed = || ApiError::invalid(key, format!("Invalid parameter name: {key}"));
    let (head, mut rest) = match key.find('[') {
        Some(at) => (&key[..at], &key[at..]),
        None => return Ok(vec![key]),
    };
    if head.is_empty() {
        return Err(malformed());
    }
    let mut segments = vec![head];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or_else(malformed)?;
        let close = inner.find(']').ok_or_else(malformed)?;
        segments.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    Ok(segments)
}

fn insert(map: &mut BTreeMap<String, Param>, segments: &[&str], value: String, key: &str) -> Result<(), ApiError> {
    let conflict = || ApiError::invalid(key, format!("Conflicting values for parameter {key}"));
    let Some((first, rest)) = segments.split_first() else {
        return Ok(());
    };
    // `[]` appends to a list: the next free index.
    let name = if first.is_empty() { map.len().to_string() } else { (*first).to_owned() };
    if rest.is_empty() {
        // Repeated plain keys: the last one wins, as in most form decoders.
        return match map.get(&name) {
            Some(Param::Map(_)) => Err(conflict()),
            _ => {
                map.insert(name, Param::Value(value));
                Ok(())
            }
        };
    }
    let child = map.entry(name).or_insert_with(|| Param::Map(BTreeMap::new()));
    match child {
        Param::Map(children) => insert(children, rest, value, key),
        Param::Value(_) => Err(conflict()),
    }
}

/// A possibly absent parameter at `path` (`line_items[0][quantity]`), for typed reads.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    path: String,
    node: Option<&'a Param>,
}

impl<'a> Field<'a> {
    /// The parameter's name as Stripe reports it in `param`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn is_present(&self) -> bool {
        self.node.is_some()
    }

    /// The child `key` of a map parameter (absent when this one is absent or a plain value).
    pub fn child(&self, key: &str) -> Field<'a> {
        let node = match self.node {
            Some(Param::Map(children)) => children.get(key),
            _ => None,
        };
        Field { path: format!("{}[{key}]", self.path), node }
    }

    /// A string value; `None` when absent. An empty string counts as absent, as in Stripe
    /// (empty values mean "unset").
    pub fn string(&self) -> Result<Option<&'a str>, ApiError> {
        match self.node {
            None => Ok(None),
            Some(Param::Value(v)) if v.is_empty() => Ok(None),
            Some(Param::Value(v)) => Ok(Some(v.as_str())),
            Some(Param::Map(_)) => {
                Err(ApiError::invalid(&self.path, format!("Invalid string: {} must be a string", self.path)))
            }
        }
    }

    /// A string that must be present and non-empty.
    pub fn required_string(&self) -> Result<&'a str, ApiError> {
        match self.node {
            None => Err(ApiError::missing(&self.path)),
            Some(Param::Value(v)) if v.is_empty() => Err(ApiError::invalid_empty(&self.path)),
            _ => self.string()?.ok_or_else(|| ApiError::missing(&self.path)),
        }
    }

    /// An integer value; `None` when absent.
    pub fn integer(&self) -> Result<Option<i64>, ApiError> {
        match self.string()? {
            None => Ok(None),
            Some(raw) => raw.parse::<i64>().map(Some).map_err(|_| ApiError::invalid_integer(&self.path, raw)),
        }
    }

    /// A list parameter (`items[0]`, `items[1]` … or `items[]`), in index order.
    pub fn list(&self) -> Result<Vec<Field<'a>>, ApiError> {
        let children = match self.node {
            // `items=` (empty) means "unset", as for any Stripe parameter.
            None => return Ok(Vec::new()),
            Some(Param::Value(v)) if v.is_empty() => return Ok(Vec::new()),
            Some(Param::Map(children)) => children,
            Some(Param::Value(_)) => {
                return Err(ApiError::invalid(&self.path, format!("Invalid array: {} must be an array", self.path)));
            }
        };
        let mut indexed = Vec::with_capacity(children.len());
        for (key, node) in children {
            let index: usize = key
                .parse()
                .map_err(|_| ApiError::invalid(&self.path, format!("Invalid array: {} must be an array", self.path)))?;
            indexed.push((index, key, node));
        }
        indexed.sort_by_key(|(index, _, _)| *index);
        Ok(indexed
            .into_iter()
            .map(|(_, key, node)| Field { path: format!("{}[{key}]", self.path), node: Some(node) })
            .collect())
    }

    /// A string → string map such as `metadata[order_id]=…`; empty values are dropped.
    pub fn string_map(&self) -> Result<BTreeMap<String, String>, ApiError> {
        let children = match self.node {
            None => return Ok(BTreeMap::new()),
            // `metadata=` (empty) unsets the whole map.
            Some(Param::Value(v)) if v.is_empty() => return Ok(BTreeMap::new()),
            Some(Param::Value(_)) => {
                return Err(ApiError::invalid(&self.path, format!("Invalid hash: {} must be a hash", self.path)));
            }
            Some(Param::Map(children)) => children,
        };
        let mut map = BTreeMap::new();
        for key in children.keys() {
            if let Some(value) = self.child(key).string()? {
                map.insert(key.clone(), value.to_owned());
            }
        }
        Ok(map)
    }

    /// All values of a list of strings (`expand[0]=a&expand[1]=b` or `expand[]=a`).
    pub fn strings(&self) -> Result<Vec<&'a str>, ApiError> {
        let mut out = Vec::new();
        for item in self.list()? {
            if let Some(value) = item.string()? {
                out.push(value);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Params {
        Params::parse(input.as_bytes()).expect("parses")
    }

    #[test]
    fn raw_and_percent_encoded_brackets_decode_alike() {
        let raw = parse("line_items[0][price_data][unit_amount]=1299&line_items[0][quantity]=2");
        let encoded =
            parse("line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=1299&line_items%5B0%5D%5Bquantity%5D=2");
        assert_eq!(raw, encoded);
        let items = raw.field("line_items").list().expect("list");
        assert_eq!(items.len(), 1);
        let amount = items[0].child("price_data").child("unit_amount");
        assert_eq!(amount.path(), "line_items[0][price_data][unit_amount]");
        assert_eq!(amount.integer().expect("integer"), Some(1299));
        assert_eq!(items[0].child("quantity").integer().expect("integer"), Some(2));
    }

    #[test]
    fn braces_and_plus_decode_in_values() {
        let params = parse("success_url=https://x.test/ok?session_id%3D{CHECKOUT_SESSION_ID}&name=Japan+10+GB");
        assert_eq!(
            params.field("success_url").string().expect("string"),
            Some("https://x.test/ok?session_id={CHECKOUT_SESSION_ID}")
        );
        assert_eq!(params.field("name").string().expect("string"), Some("Japan 10 GB"));
    }

    #[test]
    fn lists_sort_by_numeric_index_and_append_with_empty_brackets() {
        let params = parse("a[10]=ten&a[2]=two&expand[]=x&expand[]=y");
        let values: Vec<_> = params.field("a").strings().expect("strings");
        assert_eq!(values, vec!["two", "ten"]);
        assert_eq!(params.field("expand").strings().expect("strings"), vec!["x", "y"]);
    }

    #[test]
    fn typed_reads_report_the_parameter_path() {
        let params = parse("q[0][n]=abc&meta[k]=v&meta[empty]=&s=");
        let err = params.field("q").list().expect("list")[0].child("n").integer().expect_err("not an integer");
        assert_eq!(err.param(), Some("q[0][n]"));
        assert_eq!(err.code(), Some("parameter_invalid_integer"));
        let map = params.field("meta").string_map().expect("map");
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("k").map(String::as_str), Some("v"));
        let err = params.field("s").required_string().expect_err("empty");
        assert_eq!(err.code(), Some("parameter_invalid_empty"));
        let err = params.field("missing").required_string().expect_err("absent");
        assert_eq!(err.code(), Some("parameter_missing"));
    }

    #[test]
    fn conflicting_and_malformed_keys_are_rejected() {
        assert!(Params::parse(b"a=1&a[b]=2").is_err());
        assert!(Params::parse(b"a[b]=2&a=1").is_err());
        assert!(Params::parse(b"a[b=1").is_err());
        assert!(Params::parse(b"[a]=1").is_err());
    }
}
