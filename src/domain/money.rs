//! Money as integer minor units plus an ISO 4217 currency code. Never floats.

use std::fmt;

/// An amount of money in minor units (cents) of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    /// ISO 4217 code, upper case (`USD`).
    pub currency: String,
}

impl Money {
    pub fn new(minor: i64, currency: impl Into<String>) -> Self {
        Self { minor, currency: currency.into() }
    }

    /// Digits after the decimal point for the currencies we sell in.
    pub fn exponent(&self) -> u32 {
        Self::exponent_of(&self.currency)
    }

    /// Digits after the decimal point of `currency` (ISO 4217): 0 for JPY, 2 for USD and most.
    pub fn exponent_of(currency: &str) -> u32 {
        match currency {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
            _ => 2,
        }
    }

    /// What an operator types in the currency's major unit (`12`, `12.5`, `12.50`; `1200` for
    /// JPY) as money, using the currency's own number of decimals. Only digits and one decimal
    /// point are accepted: no sign, no thousands separators, no exponent. The amount must be
    /// more than zero. Errors are messages to show beside the field.
    pub fn parse_major(text: &str, currency: &str) -> Result<Money, String> {
        Self::parse_major_named(text, currency, "amount")
    }

    /// [`Money::parse_major`], with the field's name in the messages ("Enter the price.").
    pub fn parse_major_named(text: &str, currency: &str, what: &str) -> Result<Money, String> {
        let text = text.trim();
        let exponent = Self::exponent_of(currency);
        let example = if exponent == 0 { "1500".to_string() } else { format!("12.{}", "9".repeat(exponent as usize)) };
        let not_a_number = || format!("Enter the {what} as a number, such as {example}.");
        let not_positive = || format!("The {what} must be more than zero.");
        if text.is_empty() {
            return Err(format!("Enter the {what}."));
        }
        if text.starts_with('-') {
            return Err(not_positive());
        }
        if text.contains([',', ' ', '\'', '_']) {
            return Err(format!("{} Use a point for decimals and no thousands separators.", not_a_number()));
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(not_a_number());
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > exponent as usize {
            return Err(match exponent {
                0 => format!("{currency} has no decimals: enter a whole amount, such as {example}."),
                n => format!("Use at most {n} decimals."),
            });
        }
        let too_large = || format!("That {what} is too high.");
        let whole: i64 = whole.parse().map_err(|_| too_large())?;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            format!("{fraction:0<width$}", width = exponent as usize).parse().map_err(|_| too_large())?
        };
        let minor =
            whole.checked_mul(10i64.pow(exponent)).and_then(|w| w.checked_add(fraction)).ok_or_else(too_large)?;
        if minor == 0 {
            return Err(not_positive());
        }
        Ok(Money::new(minor, currency))
    }

    fn symbol(&self) -> Option<&'static str> {
        match self.currency.as_str() {
            "USD" => Some("$"),
            "EUR" => Some("€"),
            "GBP" => Some("£"),
            "JPY" => Some("¥"),
            _ => None,
        }
    }

    /// The amount as a plain decimal string without symbol: `12.99`.
    pub fn decimal(&self) -> String {
        let exp = self.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let unit = 10i64.pow(exp);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!("{sign}{}.{:0width$}", abs / unit as u64, abs % unit as u64, width = exp as usize)
    }

    /// `minor / divisor`, rounded half up; used for prices per GB.
    pub fn div_round(&self, numerator_scale: i64, divisor: i64) -> Money {
        let scaled = self.minor as i128 * numerator_scale as i128;
        let d = divisor as i128;
        let q = (scaled + d / 2) / d;
        Money::new(q as i64, self.currency.clone())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.symbol() {
            Some(s) => write!(f, "{s}{}", self.decimal()),
            None => write!(f, "{} {}", self.decimal(), self.currency),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minor_units_with_symbol_or_code() {
        assert_eq!(Money::new(1299, "USD").to_string(), "$12.99");
        assert_eq!(Money::new(5, "EUR").to_string(), "€0.05");
        assert_eq!(Money::new(1500, "CHF").to_string(), "15.00 CHF");
        assert_eq!(Money::new(1500, "JPY").to_string(), "¥1500");
        assert_eq!(Money::new(-250, "USD").decimal(), "-2.50");
    }

    #[test]
    fn parses_major_units_with_the_currencys_own_decimals() {
        let minor = |text: &str, currency: &str| Money::parse_major(text, currency).map(|m| m.minor);
        assert_eq!(minor("12", "USD"), Ok(1200));
        assert_eq!(minor("12.5", "USD"), Ok(1250));
        assert_eq!(minor(" 12.50 ", "USD"), Ok(1250));
        assert_eq!(minor("0.01", "EUR"), Ok(1));
        assert_eq!(minor("1200.00", "EUR"), Ok(120_000));
        assert_eq!(minor("1200", "JPY"), Ok(1200));
        assert_eq!(minor("007", "JPY"), Ok(7));
        assert_eq!(Money::parse_major("9.99", "EUR"), Ok(Money::new(999, "EUR")));
        assert_eq!(Money::parse_major("1200", "JPY").unwrap().to_string(), "¥1200");
    }

    #[test]
    fn refuses_what_is_not_a_plain_positive_amount_with_a_clear_message() {
        for (text, currency, message) in [
            ("", "USD", "Enter the amount."),
            ("   ", "EUR", "Enter the amount."),
            ("-1", "USD", "The amount must be more than zero."),
            ("-0.50", "EUR", "more than zero"),
            ("0", "USD", "The amount must be more than zero."),
            ("0.00", "EUR", "more than zero"),
            ("0", "JPY", "more than zero"),
            ("12.999", "USD", "Use at most 2 decimals."),
            ("12.5", "JPY", "JPY has no decimals: enter a whole amount, such as 1500."),
            ("1200.", "JPY", "Enter the amount as a number, such as 1500."),
            ("abc", "USD", "Enter the amount as a number, such as 12.99."),
            ("12.", "USD", "as a number"),
            (".5", "EUR", "as a number"),
            ("+5", "USD", "as a number"),
            ("1e3", "USD", "as a number"),
            ("12.5.0", "USD", "as a number"),
            ("$12", "USD", "as a number"),
            ("1,200.00", "USD", "no thousands separators"),
            ("12,50", "EUR", "Use a point for decimals"),
            ("1 200", "JPY", "no thousands separators"),
            ("92233720368547758.08", "USD", "too high"),
            ("99999999999999999999999", "JPY", "too high"),
        ] {
            let error = Money::parse_major(text, currency).expect_err(text);
            assert!(error.contains(message), "{text} {currency}: {error}");
        }
        assert_eq!(Money::parse_major_named("", "USD", "price"), Err("Enter the price.".to_string()));
        assert_eq!(Money::parse_major("92233720368547758.07", "USD").map(|m| m.minor), Ok(i64::MAX));
    }

    #[test]
    fn divides_with_half_up_rounding() {
        // $26.00 for 10 GB = $2.60 per GB
        assert_eq!(Money::new(2600, "USD").div_round(1024, 10 * 1024).minor, 260);
        // $4.50 for 3 GB = 150 cents
        assert_eq!(Money::new(450, "USD").div_round(1, 3).minor, 150);
        // 1000 / 3 = 333.33 -> 333; 1001/2 = 500.5 -> 501
        assert_eq!(Money::new(1000, "USD").div_round(1, 3).minor, 333);
        assert_eq!(Money::new(1001, "USD").div_round(1, 2).minor, 501);
    }
}
