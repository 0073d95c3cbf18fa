//! Creating a Checkout Session: the parameters Tern relies on, validated the way Stripe reports
//! bad ones (`code` + `param`), turned into a stored open session.

use super::error::ApiError;
use super::form::{Field, Params};
use super::objects::{LineItem, PaymentStatus, Session, SessionStatus, new_id, new_object_id, new_session_id};

/// Line items allowed in payment mode.
const MAX_LINE_ITEMS: usize = 100;
/// `expires_at` must fall this many seconds after creation, at least …
const MIN_LIFETIME_SECS: i64 = 30 * 60;
/// … and at most (also the default).
const MAX_LIFETIME_SECS: i64 = 24 * 60 * 60;
/// Stripe's usual ceiling for one payment, in minor units.
const MAX_AMOUNT: i64 = 99_999_999;

/// Validates `POST /v1/checkout/sessions` parameters into a new open session.
pub fn new_session(params: &Params, now: i64) -> Result<Session, ApiError> {
    let mode = params.field("mode");
    if mode.required_string()? != "payment" {
        return Err(ApiError::invalid(mode.path(), "The Stripe emulator supports only mode=payment."));
    }

    let (currency, line_items) = line_items(&params.field("line_items"))?;
    line_items
        .iter()
        .try_fold(0i64, |sum, item| sum.checked_add(item.amount()))
        .filter(|total| *total <= MAX_AMOUNT)
        .ok_or_else(|| {
        ApiError::request_failed(
            "amount_too_large",
            Some("line_items"),
            format!("The total may be at most {MAX_AMOUNT} minor units."),
        )
    })?;

    let success_url = params.field("success_url");
    let success = url(&success_url)?.ok_or_else(|| ApiError::missing(success_url.path()))?;
    let cancel = url(&params.field("cancel_url"))?;

    let expires_at = params.field("expires_at");
    let expires = match expires_at.integer()? {
        None => now + MAX_LIFETIME_SECS,
        Some(at) if at < now + MIN_LIFETIME_SECS || at > now + MAX_LIFETIME_SECS => {
            return Err(ApiError::integer_out_of_range(
                expires_at.path(),
                format!(
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours after \
                     Checkout Session creation (now: {now}, got: {at})."
                ),
            ));
        }
        Some(at) => at,
    };

    let email = params.field("customer_email");
    let customer_email = email.string()?.map(str::to_owned);
    if let Some(address) = &customer_email
        && !looks_like_email(address)
    {
        return Err(ApiError::request_failed(
            "email_invalid",
            Some(email.path()),
            format!("Invalid email address: {address}"),
        ));
    }

    Ok(Session {
        id: new_session_id(),
        created: now,
        expires_at: expires,
        status: SessionStatus::Open,
        payment_status: PaymentStatus::Unpaid,
        delayed: None,
        currency,
        line_items,
        client_reference_id: params.field("client_reference_id").string()?.map(str::to_owned),
        customer_email,
        paid_email: None,
        metadata: params.field("metadata").string_map()?,
        payment_intent_metadata: params.field("payment_intent_data").child("metadata").string_map()?,
        success_url: success.to_owned(),
        cancel_url: cancel.map(str::to_owned),
        payment_intent: None,
    })
}

/// The line items and their common currency.
fn line_items(field: &Field<'_>) -> Result<(String, Vec<LineItem>), ApiError> {
    let items = field.list()?;
    if items.is_empty() {
        return Err(ApiError::missing(field.path()));
    }
    if items.len() > MAX_LINE_ITEMS {
        return Err(ApiError::invalid(
            field.path(),
            format!("A Checkout Session in payment mode takes at most {MAX_LINE_ITEMS} line items."),
        ));
    }
    let mut currency: Option<String> = None;
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        let (item_currency, line_item) = line_item(item)?;
        match &currency {
            Some(first) if *first != item_currency => {
                return Err(ApiError::invalid(field.path(), "All line items must use the same currency."));
            }
            Some(_) => {}
            None => currency = Some(item_currency),
        }
        out.push(line_item);
    }
    let currency = currency.ok_or_else(|| ApiError::missing(field.path()))?;
    Ok((currency, out))
}

fn line_item(item: &Field<'_>) -> Result<(String, LineItem), ApiError> {
    let price = item.child("price");
    if price.is_present() {
        return Err(ApiError::invalid(
            price.path(),
            "The Stripe emulator has no catalogue prices; send price_data instead of a price id.",
        ));
    }
    let price_data = item.child("price_data");
    if !price_data.is_present() {
        return Err(ApiError::missing(price_data.path()));
    }

    let currency_field = price_data.child("currency");
    let currency = currency_field.required_string()?;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(ApiError::invalid(
            currency_field.path(),
            format!("Invalid currency: {currency}. Use a lowercase three-letter ISO code."),
        ));
    }

    let product_data = price_data.child("product_data");
    if !product_data.is_present() {
        let product = price_data.child("product");
        return Err(if product.is_present() {
            ApiError::invalid(
                product.path(),
                "The Stripe emulator has no catalogue products; send product_data instead.",
            )
        } else {
            ApiError::missing(product_data.path())
        });
    }
    let name = product_data.child("name").required_string()?.to_owned();
    let description = product_data.child("description").string()?.map(str::to_owned);

    let amount_field = price_data.child("unit_amount");
    let unit_amount = amount_field.integer()?.ok_or_else(|| ApiError::missing(amount_field.path()))?;
    if unit_amount < 0 {
        return Err(ApiError::integer_out_of_range(
            amount_field.path(),
            "This value must be greater than or equal to 0.",
        ));
    }

    let quantity_field = item.child("quantity");
    let quantity = quantity_field.integer()?.ok_or_else(|| ApiError::missing(quantity_field.path()))?;
    if quantity < 1 {
        return Err(ApiError::integer_out_of_range(
            quantity_field.path(),
            "This value must be greater than or equal to 1.",
        ));
    }
    if unit_amount.checked_mul(quantity).is_none() {
        return Err(ApiError::integer_out_of_range(quantity_field.path(), "The line item's amount is too large."));
    }

    Ok((
        currency.to_owned(),
        LineItem {
            id: new_object_id("li_"),
            price_id: new_object_id("price_"),
            product_id: new_id("prod_", 14),
            name,
            description,
            unit_amount,
            quantity,
        },
    ))
}

/// An optional absolute http(s) URL (`{CHECKOUT_SESSION_ID}` allowed anywhere after the host).
fn url<'a>(field: &Field<'a>) -> Result<Option<&'a str>, ApiError> {
    let Some(raw) = field.string()? else {
        if field.is_present() {
            return Err(ApiError::invalid_empty(field.path()));
        }
        return Ok(None);
    };
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(host) if !host.is_empty() && !raw.contains(char::is_whitespace) => Ok(Some(raw)),
        _ => Err(ApiError::url_invalid(field.path())),
    }
}

fn looks_like_email(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !address.contains(char::is_whitespace),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_900_000_000;

    fn create(body: &str) -> Result<Session, ApiError> {
        new_session(&Params::parse(body.as_bytes())?, NOW)
    }

    const VALID: &str = "mode=payment&success_url=https://t.example/ok?id={CHECKOUT_SESSION_ID}\
        &line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=1299\
        &line_items[0][price_data][product_data][name]=Japan&line_items[0][quantity]=2\
        &line_items[1][price_data][currency]=eur&line_items[1][price_data][unit_amount]=1\
        &line_items[1][price_data][product_data][name]=Extra&line_items[1][quantity]=1";

    #[test]
    fn a_valid_request_sums_the_line_items_and_defaults_expiry_to_a_day() {
        let session = create(VALID).expect("valid");
        assert_eq!(session.amount_total(), 2 * 1299 + 1);
        assert_eq!(session.currency, "eur");
        assert_eq!(session.expires_at, NOW + MAX_LIFETIME_SECS);
        assert_eq!(session.id.len(), 66);
        assert!(session.id.starts_with("cs_test_"));
    }

    #[test]
    fn bad_parameters_name_their_param_and_code() {
        let cases = [
            ("mode=setup", "mode", None),
            ("mode=", "mode", Some("parameter_invalid_empty")),
            ("success_url=ftp://x", "success_url", Some("url_invalid")),
            ("success_url=", "success_url", Some("parameter_invalid_empty")),
            ("line_items[0][price_data][currency]=EUR", "line_items[0][price_data][currency]", None),
            (
                "line_items[0][price_data][unit_amount]=12.5",
                "line_items[0][price_data][unit_amount]",
                Some("parameter_invalid_integer"),
            ),
            (
                "line_items[0][price_data][unit_amount]=-1",
                "line_items[0][price_data][unit_amount]",
                Some("parameter_invalid_integer"),
            ),
            ("line_items[0][quantity]=0", "line_items[0][quantity]", Some("parameter_invalid_integer")),
            ("line_items[0][price]=price_123", "line_items[0][price]", None),
            ("line_items[1][price_data][currency]=usd", "line_items", None),
            ("expires_at=1900000100", "expires_at", Some("parameter_invalid_integer")),
            ("expires_at=1900090000", "expires_at", Some("parameter_invalid_integer")),
            ("customer_email=nobody", "customer_email", Some("email_invalid")),
        ];
        for (override_, param, code) in cases {
            let error = create(&format!("{VALID}&{override_}")).expect_err(override_);
            assert_eq!(error.param(), Some(param), "{override_}");
            assert_eq!(error.code(), code, "{override_}");
        }
        let missing = create("mode=payment&success_url=https://t.example/").expect_err("no items");
        assert_eq!(missing.param(), Some("line_items"));
        assert_eq!(missing.code(), Some("parameter_missing"));
    }
}
