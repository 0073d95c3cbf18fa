//! Email addresses as travellers type them: normalised, checked, and typo-suggested.

/// A syntactically plausible email address, trimmed, with its domain in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Checks an address the way a shop should: one `@`, a sane local part, a domain with a
    /// dot and a letter-only top-level label. Returns the reason when it is not acceptable.
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("Enter your email address: your eSIM is sent there.");
        }
        if raw.len() > 254 {
            return Err("That email address is too long.");
        }
        let Some((local, domain)) = raw.rsplit_once('@') else {
            return Err("An email address needs an @, like name@example.com.");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !local_ok {
            return Err("The part before the @ is not valid.");
        }
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if !domain_ok {
            return Err("The part after the @ is not a valid domain, like example.com.");
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A likely intended address when the domain looks like a typo of a common provider.
    pub fn suggestion(&self) -> Option<String> {
        let (local, domain) = self.0.rsplit_once('@')?;
        let fixed = TYPOS.iter().find(|(typo, _)| *typo == domain).map(|(_, fix)| *fix)?;
        Some(format!("{local}@{fixed}"))
    }

    /// For logs: the domain only (full addresses are never logged).
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

const TYPOS: &[(&str, &str)] = &[
    ("gmial.com", "gmail.com"),
    ("gmai.com", "gmail.com"),
    ("gmail.co", "gmail.com"),
    ("gmail.con", "gmail.com"),
    ("gmal.com", "gmail.com"),
    ("gnail.com", "gmail.com"),
    ("hotmial.com", "hotmail.com"),
    ("hotmail.con", "hotmail.com"),
    ("hotmai.com", "hotmail.com"),
    ("yahooo.com", "yahoo.com"),
    ("yaho.com", "yahoo.com"),
    ("yahoo.con", "yahoo.com"),
    ("outlok.com", "outlook.com"),
    ("outlook.con", "outlook.com"),
    ("iclod.com", "icloud.com"),
    ("icloud.con", "icloud.com"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_plausible_addresses() {
        assert_eq!(Email::parse("  Ana.Lopez+trip@Example.COM ").unwrap().as_str(), "Ana.Lopez+trip@example.com");
        assert!(Email::parse("a@b.co").is_ok());
    }

    #[test]
    fn rejects_what_cannot_receive_mail_with_a_reason() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@exa mple.com",
            "ana..x@example.com",
            "ana@-x.com",
            "ana@example.c0m",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse("ana").unwrap_err().contains("@"));
        assert!(Email::parse(&format!("{}@x.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn suggests_fixes_for_common_domain_typos() {
        assert_eq!(Email::parse("ana@gmial.com").unwrap().suggestion().as_deref(), Some("ana@gmail.com"));
        assert_eq!(Email::parse("ana@gmail.com").unwrap().suggestion(), None);
        assert_eq!(Email::parse("ana@gmail.com").unwrap().domain(), "gmail.com");
    }
}
