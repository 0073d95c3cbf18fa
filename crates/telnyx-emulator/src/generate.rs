//! Realistic but clearly fake identifiers (Luhn ICCIDs and IMEIs, test-PLMN IMSIs, fictional
//! MSISDNs, MOD 97 EIDs, activation codes), Telnyx-style timestamps and decimal amounts.

use rand::Rng;
use time::OffsetDateTime;

/// The SM-DP+ host in emulated activation codes: a reserved `.test` name, never a real server.
pub const SMDP_HOST: &str = "smdp.tern.test";
/// The SM-DP+ OID added when the `activation_code_extra_fields` quirk is on (the 2.999 example arc).
pub const SMDP_OID: &str = "2.999.1";

fn digits(count: usize) -> String {
    let mut rng = rand::rng();
    (0..count).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

/// The Luhn check digit for `payload` (ITU-T E.118 for ICCIDs, also used by IMEIs).
pub fn luhn_check_digit(payload: &str) -> char {
    let sum: u32 = payload
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            // The digit next to the check digit is doubled, then every second one.
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// 20 digits: `89` (telecom), 17 random digits, Luhn check digit.
pub fn iccid() -> String {
    let payload = format!("89{}", digits(17));
    let check = luhn_check_digit(&payload);
    format!("{payload}{check}")
}

/// 15 digits in the test network `001 01`.
pub fn imsi() -> String {
    format!("00101{}", digits(10))
}

/// E.164 in the fictional 555 exchange of Washington, D.C.
pub fn msisdn() -> String {
    format!("+1202555{}", digits(4))
}

/// 32 digits starting `89`, the last two making the number ≡ 1 (mod 97) as EIDs do.
pub fn eid() -> String {
    let payload = format!("89{}", digits(28));
    let remainder = payload.bytes().chain(*b"00").fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    format!("{payload}{:02}", 98 - remainder)
}

/// 15 digits: 14 random after `35`, then a Luhn check digit.
pub fn imei() -> String {
    let payload = format!("35{}", digits(12));
    let check = luhn_check_digit(&payload);
    format!("{payload}{check}")
}

/// A 4-digit PIN or 8-digit PUK.
pub fn pin(len: usize) -> String {
    digits(len)
}

/// `TN-XXXX-XXXX-XXXX` from `A-Z0-9`.
pub fn matching_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let mut group =
        || -> String { (0..4).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect() };
    format!("TN-{}-{}-{}", group(), group(), group())
}

/// `LPA:1$<host>$<matching id>`, with the OID and confirmation-code flag when `extra_fields`.
pub fn activation_code(matching_id: &str, extra_fields: bool) -> String {
    if extra_fields {
        format!("LPA:1${SMDP_HOST}${matching_id}${SMDP_OID}$1")
    } else {
        format!("LPA:1${SMDP_HOST}${matching_id}")
    }
}

pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `2026-03-01T10:15:30.123Z`: UTC, millisecond precision, `Z`.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A data amount as Telnyx writes it: a decimal string with at least one decimal (`"0.0"`,
/// `"10240.0"`, `"1.25"`), rounded to kilobytes so summed usage does not print float noise.
pub fn amount(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    let text = format!("{rounded}");
    if text.contains('.') { text } else { format!("{text}.0") }
}

/// A non-negative decimal amount such as `"10240.0"` or `"512"`; None for anything else.
pub fn parse_amount(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    let valid = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && raw.bytes().filter(|&b| b == b'.').count() <= 1
        && raw.bytes().any(|b| b.is_ascii_digit());
    valid.then(|| raw.parse::<f64>().ok()).flatten().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luhn_valid(number: &str) -> bool {
        let (payload, check) = number.split_at(number.len() - 1);
        check.starts_with(luhn_check_digit(payload))
    }

    #[test]
    fn iccids_and_imeis_pass_luhn() {
        assert!(luhn_valid("89000000000000000012"));
        assert!(!luhn_valid("89310410106543789301"), "the spec's example fails Luhn");
        for _ in 0..200 {
            let iccid = iccid();
            assert_eq!(iccid.len(), 20);
            assert!(iccid.starts_with("89") && luhn_valid(&iccid), "{iccid}");
            assert!(luhn_valid(&imei()));
        }
    }

    #[test]
    fn eids_are_mod_97_valid() {
        for _ in 0..200 {
            let eid = eid();
            assert_eq!(eid.len(), 32);
            assert_eq!(eid.bytes().fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97), 1, "{eid}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(amount(0.0), "0.0");
        assert_eq!(amount(10240.0), "10240.0");
        assert_eq!(amount(1.25), "1.25");
        assert_eq!(amount(0.1 + 0.2), "0.3");
        assert_eq!(parse_amount("10240.0"), Some(10240.0));
        assert_eq!(parse_amount("512"), Some(512.0));
        for bad in ["", "-1", "1e3", "abc", "1.2.3", ".", "NaN"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
        let t = time::macros::datetime!(2026-03-01 10:15:30.123456 UTC);
        assert_eq!(timestamp(t), "2026-03-01T10:15:30.123Z");
        let id = matching_id();
        assert_eq!(id.len(), 17);
        assert!(id.starts_with("TN-") && id[3..].chars().all(|c| c == '-' || c.is_ascii_alphanumeric()));
        assert!(imsi().starts_with("00101") && imsi().len() == 15);
        assert!(msisdn().starts_with("+1202555") && msisdn().len() == 12);
    }
}
