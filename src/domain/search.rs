//! Destination matching: case- and accent-insensitive, over names, ISO codes and aliases.

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
}
