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
        match self.currency.as_str() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
            _ => 2,
        }
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
