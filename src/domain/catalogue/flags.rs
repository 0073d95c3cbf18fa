//! Flag images of destinations: the SVG files shipped in `static/flags/` (flag-icons, 4x3) and
//! the file a page links for one, built only from a code in that list.

use super::Destination;

/// The ISO 3166-1 alpha-2 codes (lower case) whose flag ships as `static/flags/{code}.svg`: the
/// seeded catalogue's destinations. `tests/api/pages.rs` checks the list against the directory.
pub const FLAG_CODES: &[&str] = &[
    "ae", "ar", "at", "au", "be", "bg", "bh", "br", "ca", "ch", "ci", "cl", "cn", "co", "cr", "cw", "cy", "cz", "de",
    "dk", "do", "ec", "ee", "eg", "es", "fi", "fj", "fr", "gb", "gh", "gr", "gt", "hk", "hr", "hu", "id", "ie", "il",
    "in", "is", "it", "jm", "jo", "jp", "ke", "kh", "kr", "kw", "kz", "la", "lk", "lt", "lu", "lv", "ma", "mt", "mu",
    "mv", "mx", "my", "nc", "ng", "nl", "no", "np", "nz", "om", "pa", "pe", "pf", "ph", "pl", "pt", "qa", "re", "ro",
    "rw", "sa", "se", "sg", "si", "sk", "sn", "th", "tn", "tr", "tw", "tz", "ug", "us", "uy", "uz", "vn", "ws", "za",
];

/// The flags whose SVG is heavy (a coat of arms in hundreds of paths: Mexico's is 29 KB with
/// gzip, Spain's 15 KB), linked as `static/flags/{code}.png` instead: 80×60, twice the largest
/// size a page shows, rendered from the same SVG (`rsvg-convert -w 80 -h 60`, then
/// `pngquant --quality 80-100`), 0.7–2.3 KB each. Every flag over 4 KB with gzip is here, so a
/// list of flags stays light on roaming data. `tests/api/pages.rs` checks each file exists.
pub const RASTER_FLAG_CODES: &[&str] = &["do", "ec", "es", "fj", "gt", "hr", "lk", "mt", "mx", "om", "sa"];

/// What a destination without a shipped flag shows (one an operator added later): a neutral globe.
pub const NEUTRAL_FLAG_FILE: &str = "img/globe.svg";

/// The shipped flag's code for an ISO code, if it is two ASCII letters and in [`FLAG_CODES`].
/// The code returned is the list's own `'static` entry, never the caller's text.
pub fn flag_code(iso: &str) -> Option<&'static str> {
    if iso.len() != 2 || !iso.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let lower = iso.to_ascii_lowercase();
    FLAG_CODES.binary_search(&lower.as_str()).ok().map(|at| FLAG_CODES[at])
}

impl Destination {
    /// The flag emoji, made of the two regional indicator symbols of the ISO code: for the
    /// API's `flag` field only (an app draws it, or its own image from the ISO code). Pages,
    /// admin included, show [`Destination::flag_file`] or the name alone, since many systems
    /// draw these emoji as boxes.
    pub fn flag(&self) -> String {
        self.iso
            .chars()
            .filter(char::is_ascii_alphabetic)
            .filter_map(|c| char::from_u32(0x1F1E6 + (c.to_ascii_uppercase() as u32 - 'A' as u32)))
            .collect()
    }

    /// The flag image's file under `static/` (`flags/jp.svg`, or `flags/mx.png` for a
    /// [`RASTER_FLAG_CODES`] one), or the neutral globe's when no flag ships for the code. Pages
    /// link it under its hashed name (`http::statics::url`).
    pub fn flag_file(&self) -> String {
        match flag_code(&self.iso) {
            Some(code) if RASTER_FLAG_CODES.contains(&code) => format!("flags/{code}.png"),
            Some(code) => format!("flags/{code}.svg"),
            None => NEUTRAL_FLAG_FILE.to_string(),
        }
    }
}
