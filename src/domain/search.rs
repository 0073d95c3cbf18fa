//! Destination and region matching: case- and accent-insensitive, over names, ISO codes and
//! aliases (cities, islands, names in other languages), tolerant of typos in queries of four
//! letters or more (ranked below exact and prefix matches), with a "did you mean" when nothing
//! matches. The index is built once per catalogue snapshot.

use std::collections::HashMap;

use super::catalogue::{Catalogue, Destination, Region};

/// Folds text for matching: transliterated to ASCII ("Türkiye" → "turkiye"), lower case,
/// punctuation dropped, runs of spaces collapsed.
pub fn fold(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// How well a folded query matches one folded key; lower is better, `None` is no match.
pub fn score(query: &str, key: &str) -> Option<u8> {
    if query.is_empty() {
        return Some(3);
    }
    if key == query {
        Some(0)
    } else if key.starts_with(query) {
        Some(1)
    } else if key.split(' ').any(|word| word.starts_with(query)) {
        Some(2)
    } else if query.len() >= 3 && key.contains(query) {
        Some(3)
    } else {
        None
    }
}

/// The best score of a query over several keys.
pub fn best_score<'a>(query: &str, keys: impl IntoIterator<Item = &'a String>) -> Option<u8> {
    keys.into_iter().filter_map(|k| score(query, k)).min()
}

/// Queries shorter than this are never matched approximately.
const FUZZY_MIN_LEN: usize = 4;
/// Similarity (Jaro-Winkler) a name needs to be suggested when nothing matches.
const SUGGEST_MIN: f64 = 0.8;

/// How far a folded query (4+ letters) is from a folded key or one of its words: 1 edit allowed
/// up to 5 letters, 2 beyond. `None` when too far or the query is too short.
pub fn typo_distance(query: &str, key: &str) -> Option<usize> {
    let len = query.chars().count();
    if len < FUZZY_MIN_LEN {
        return None;
    }
    let max = if len <= 5 { 1 } else { 2 };
    std::iter::once(key)
        .chain(key.split(' '))
        .filter(|k| k.chars().count().abs_diff(len) <= max)
        .map(|k| strsim::damerau_levenshtein(query, k))
        .filter(|&d| d <= max)
        .min()
}

/// Rank of a query over several keys: 0–3 as `score`, then 4 + edit distance for a typo.
fn rank(query: &str, keys: &[String]) -> Option<u8> {
    best_score(query, keys).or_else(|| {
        let distance = keys.iter().filter_map(|k| typo_distance(query, k)).min()?;
        Some(4 + distance as u8)
    })
}

/// Folded search keys of every destination and region of one catalogue snapshot.
#[derive(Debug, Default)]
pub struct SearchIndex {
    /// Parallel to `Catalogue::destinations()`: name, ISO code, aliases.
    destinations: Vec<Vec<String>>,
    /// Parallel to `Catalogue::regions()`: name, id, aliases.
    regions: Vec<Vec<String>>,
}

/// What a search found, best first.
#[derive(Debug, Default)]
pub struct SearchHits<'a> {
    pub regions: Vec<&'a Region>,
    pub destinations: Vec<&'a Destination>,
    /// When nothing matched: the closest destination or region name, to offer instead.
    pub suggestion: Option<&'a str>,
}

impl SearchIndex {
    /// `region_aliases` maps a region id to its aliases.
    pub fn build(catalogue: &Catalogue, region_aliases: &HashMap<String, Vec<String>>) -> Self {
        let keys = |name: &str, code: &str, aliases: &[String]| {
            let mut keys = vec![fold(name), fold(code)];
            keys.extend(aliases.iter().map(|a| fold(a)));
            keys.dedup();
            keys
        };
        Self {
            destinations: catalogue.destinations().iter().map(|d| keys(&d.name, &d.iso, &d.aliases)).collect(),
            regions: catalogue
                .regions()
                .iter()
                .map(|r| keys(&r.name, &r.id, region_aliases.get(&r.id).map_or(&[], Vec::as_slice)))
                .collect(),
        }
    }

    /// Destinations (optionally within one region) and regions matching `query`. An empty
    /// query lists every destination and no region.
    pub fn search<'a>(&self, catalogue: &'a Catalogue, query: &str, region_id: Option<&str>) -> SearchHits<'a> {
        let folded = fold(query);
        let destinations = catalogue.destinations();
        let mut hits: Vec<(u8, usize)> = destinations
            .iter()
            .enumerate()
            .filter(|(_, d)| region_id.is_none_or(|r| d.region_id == r))
            .filter_map(|(i, _)| rank(&folded, self.key_of(&self.destinations, i)).map(|s| (s, i)))
            .collect();
        hits.sort();
        let mut region_hits: Vec<(u8, usize)> = if folded.is_empty() || region_id.is_some() {
            Vec::new()
        } else {
            (0..catalogue.regions().len())
                .filter_map(|i| rank(&folded, self.key_of(&self.regions, i)).map(|s| (s, i)))
                .collect()
        };
        region_hits.sort();
        let mut found = SearchHits {
            regions: region_hits.into_iter().map(|(_, i)| &catalogue.regions()[i]).collect(),
            destinations: hits.into_iter().map(|(_, i)| &destinations[i]).collect(),
            suggestion: None,
        };
        if found.regions.is_empty() && found.destinations.is_empty() && !folded.is_empty() {
            found.suggestion = self.closest(catalogue, &folded);
        }
        found
    }

    fn key_of<'k>(&self, keys: &'k [Vec<String>], i: usize) -> &'k [String] {
        keys.get(i).map_or(&[], Vec::as_slice)
    }

    /// The destination or region name whose keys are most like `folded`, if any is close.
    fn closest<'a>(&self, catalogue: &'a Catalogue, folded: &str) -> Option<&'a str> {
        let names = catalogue.destinations().iter().map(|d| d.name.as_str()).zip(&self.destinations);
        let regions = catalogue.regions().iter().map(|r| r.name.as_str()).zip(&self.regions);
        names
            .chain(regions)
            .flat_map(|(name, keys)| keys.iter().map(move |k| (strsim::jaro_winkler(folded, k), name)))
            .filter(|(similarity, _)| *similarity >= SUGGEST_MIN)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, name)| name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(fold("Türkiye"), "turkiye");
        assert_eq!(fold("  CÔTE d'Ivoire "), "cote d ivoire");
        assert_eq!(fold("São Tomé & Príncipe"), "sao tome principe");
    }

    #[test]
    fn ranks_exact_before_prefix_before_word_before_substring() {
        assert_eq!(score("uk", "uk"), Some(0));
        assert_eq!(score("jap", "japan"), Some(1));
        assert_eq!(score("kingdom", "united kingdom"), Some(2));
        assert_eq!(score("ngdo", "united kingdom"), Some(3));
        assert_eq!(score("ng", "united kingdom"), None, "short fragments only match word starts");
        assert_eq!(score("france", "germany"), None);
    }

    #[test]
    fn typos_need_four_letters_and_stay_within_two_edits() {
        assert_eq!(typo_distance("japn", "japan"), Some(1));
        assert_eq!(typo_distance("jpan", "japan"), Some(1));
        assert_eq!(typo_distance("thialand", "thailand"), Some(1), "a transposition is one edit");
        assert_eq!(typo_distance("germny", "germany"), Some(1));
        assert_eq!(typo_distance("portgual", "portugal"), Some(1));
        assert_eq!(typo_distance("spian", "new spain"), Some(1), "words of a key count");
        assert_eq!(typo_distance("jap", "jpa"), None, "three letters: exact or prefix only");
        assert_eq!(typo_distance("fraance", "france"), Some(1));
        assert_eq!(typo_distance("xyzzy", "italy"), None);
    }

    #[test]
    fn the_index_ranks_typos_below_exact_matches_and_suggests_when_nothing_matches() {
        use crate::domain::catalogue::{Catalogue, Destination, Region};
        let region = |id: &str, name: &str| Region { id: id.into(), name: name.into(), sort_order: 0 };
        let dest = |iso: &str, name: &str, aliases: &[&str]| Destination {
            iso: iso.into(),
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            region_id: "middle-east".into(),
            popularity_rank: None,
        };
        let catalogue = Catalogue::new(
            vec![region("middle-east", "Middle East"), region("europe", "Europe")],
            vec![dest("IQ", "Iraq", &[]), dest("IR", "Iran", &[]), dest("JP", "Japan", &["Tokyo", "Kyoto"])],
            vec![],
        );
        let aliases = HashMap::from([("europe".to_string(), vec!["Schengen".to_string()])]);
        let index = SearchIndex::build(&catalogue, &aliases);
        let isos =
            |q: &str| index.search(&catalogue, q, None).destinations.iter().map(|d| d.iso.as_str()).collect::<Vec<_>>();
        assert_eq!(isos("iran"), ["IR", "IQ"], "the exact match first, the typo after");
        assert_eq!(isos("japn"), ["JP"]);
        assert_eq!(isos("tokyo"), ["JP"]);
        let hits = index.search(&catalogue, "schengen", None);
        assert_eq!(hits.regions.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["europe"]);
        assert!(hits.destinations.is_empty());
        assert!(index.search(&catalogue, "schengen", Some("middle-east")).regions.is_empty());
        let none = index.search(&catalogue, "jpa", None);
        assert!(none.destinations.is_empty() && none.regions.is_empty());
        assert_eq!(none.suggestion, Some("Japan"), "three letters are never matched by typo, but suggested");
        assert_eq!(index.search(&catalogue, "zzzzzz", None).suggestion, None);
    }
}
