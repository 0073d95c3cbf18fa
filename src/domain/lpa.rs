//! eSIM activation codes (GSMA SGP.22 §4.1): `LPA:1$<SM-DP+ address>$<matching id>[$<OID>[$<CC flag>]]`.

/// A parsed activation code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationCode {
    /// The whole code, with the `LPA:` prefix: what the QR code encodes.
    pub raw: String,
    pub sm_dp_address: String,
    /// May be empty.
    pub matching_id: String,
    pub oid: Option<String>,
    /// The phone will ask for a confirmation code (sent separately; never in the string).
    pub confirmation_code_required: bool,
}

impl ActivationCode {
    pub fn parse(code: &str) -> Result<Self, &'static str> {
        let code = code.trim();
        let body = code.strip_prefix("LPA:").or_else(|| code.strip_prefix("lpa:")).unwrap_or(code);
        let fields: Vec<&str> = body.split('$').collect();
        if fields.first() != Some(&"1") {
            return Err("the activation code format must be 1");
        }
        let sm_dp = fields.get(1).copied().unwrap_or("");
        let host_ok = !sm_dp.is_empty()
            && !sm_dp.contains("://")
            && sm_dp.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':');
        if !host_ok {
            return Err("the SM-DP+ address must be a host name");
        }
        let matching_id = fields.get(2).copied().ok_or("the matching id field is missing")?;
        Ok(Self {
            raw: format!("LPA:{body}"),
            sm_dp_address: sm_dp.to_string(),
            matching_id: matching_id.to_string(),
            oid: fields.get(3).filter(|s| !s.is_empty()).map(|s| s.to_string()),
            confirmation_code_required: fields.get(4) == Some(&"1"),
        })
    }

    /// Apple's one-tap install link (iOS 17.4+).
    pub fn ios_install_url(&self) -> String {
        format!("https://esimsetup.apple.com/esim_qrcode_provisioning?carddata={}", percent_encode(&self.raw))
    }

    /// The Android equivalent.
    pub fn android_install_url(&self) -> String {
        format!("https://esimsetup.android.com/esim_qrcode_provisioning?carddata={}", percent_encode(&self.raw))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fields() {
        let c = ActivationCode::parse("LPA:1$smdp.tern.test$TN-7K3Q-9XW2-4M8P").unwrap();
        assert_eq!(c.sm_dp_address, "smdp.tern.test");
        assert_eq!(c.matching_id, "TN-7K3Q-9XW2-4M8P");
        assert_eq!(c.oid, None);
        assert!(!c.confirmation_code_required);
        let c = ActivationCode::parse("LPA:1$smdp.tern.test$TN-AB12$2.999.1$1").unwrap();
        assert_eq!(c.oid.as_deref(), Some("2.999.1"));
        assert!(c.confirmation_code_required);
        assert_eq!(ActivationCode::parse("1$smdp.tern.test$").unwrap().raw, "LPA:1$smdp.tern.test$");
        assert_eq!(ActivationCode::parse("lpa:1$h.example$X$$0$extra$more").unwrap().matching_id, "X");
    }

    #[test]
    fn refuses_what_is_not_an_activation_code() {
        for bad in ["", "LPA:2$h$x", "LPA:1$$x", "LPA:1$https://h$x", "LPA:1$host"] {
            assert!(ActivationCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn one_tap_links_carry_the_percent_encoded_code() {
        let c = ActivationCode::parse("LPA:1$smdp.tern.test$TN-7K3Q-9XW2-4M8P").unwrap();
        assert_eq!(
            c.ios_install_url(),
            "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA%3A1%24smdp.tern.test%24TN-7K3Q-9XW2-4M8P"
        );
        assert!(c.android_install_url().starts_with("https://esimsetup.android.com/"));
    }
}
