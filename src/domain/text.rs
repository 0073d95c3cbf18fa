//! The one rule for text anyone sends: no control characters (NUL, escape, DEL, the C1 set),
//! except the tab and line breaks a multi-line field may hold.

/// Whether `c` is refused in text input.
pub fn is_refused(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `s` holds a refused character.
pub fn has_control(s: &str) -> bool {
    s.chars().any(is_refused)
}

/// The message shown beside a field that holds one.
pub const CONTROL_MESSAGE: &str = "Remove the control characters (such as NUL) from this field.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_are_not() {
        for bad in ["a\u{0}b", "\u{1b}[31m", "x\u{7f}", "\u{85}", "\u{9f}"] {
            assert!(has_control(bad), "{bad:?}");
        }
        for fine in ["Line one\nline two\r\n", "a\tb", "Türkiye 🇹🇷", ""] {
            assert!(!has_control(fine), "{fine:?}");
        }
    }
}
