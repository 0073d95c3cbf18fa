//! Telnyx's SIM / eSIM API through reqwest: purchase eSIMs tagged with the order, find SIMs by
//! tag, read a SIM, fetch its activation code, set its data limit, enable or disable it
//! (following the action to its end). Errors say whether a retry can help.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Every request's timeout stays below the job worker's 30 s lease, so a hung call ends (as a
/// retryable error) well before its job could be taken over; `with_timeouts` changes them.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Purchases and actions run in the background at Telnyx: give them longer, so fewer
/// outcomes are ambiguous, but still less than the lease.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const PAGE_SIZE: u32 = 250;

#[derive(Debug, Clone, thiserror::Error)]
pub enum TelnyxError {
    /// Timeouts, connection failures, 5xx, 429: trying again later may work. `retry_after`
    /// comes from `x-ratelimit-reset` on a 429.
    #[error("telnyx: {reason} (retryable)")]
    Retryable { reason: String, retry_after: Option<Duration> },
    /// A 4xx other than 429 (e.g. 70001 out of inventory, 10009 authentication): retrying the
    /// same request will not help.
    #[error("telnyx: {status} {code}: {detail}")]
    Permanent { status: u16, code: String, detail: String },
}

impl super::CallOutcome for TelnyxError {
    /// The class of the failure, from the reasons `exchange` writes.
    fn class(&self) -> &'static str {
        match self {
            TelnyxError::Permanent { status, .. } => super::status_class(*status),
            TelnyxError::Retryable { reason, .. } if reason.starts_with("rate limited") => "rate_limited",
            TelnyxError::Retryable { reason, .. } if reason == "request timed out" => "timeout",
            TelnyxError::Retryable { reason, .. } if reason.starts_with("request failed") => "network",
            TelnyxError::Retryable { reason, .. } if reason.starts_with("reading the answer") => "network",
            TelnyxError::Retryable { reason, .. } if reason.starts_with("unexpected answer") => "bad_answer",
            TelnyxError::Retryable { .. } => "server_error",
        }
    }
}

impl TelnyxError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, TelnyxError::Retryable { .. })
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            TelnyxError::Permanent { code, .. } => Some(code),
            TelnyxError::Retryable { .. } => None,
        }
    }
}

/// One entry of Telnyx's error list.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiErrorItem {
    pub code: String,
    pub title: String,
    pub detail: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorBody {
    Wrapped { errors: Vec<ApiErrorItem> },
    Bare(ApiErrorItem),
}

/// `status` arrives as `{value, reason}`, and in older shapes as a bare string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum StatusField {
    Obj { value: String },
    Bare(String),
}

impl StatusField {
    fn value(&self) -> &str {
        match self {
            StatusField::Obj { value } | StatusField::Bare(value) => value,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct SimCardWire {
    id: String,
    iccid: Option<String>,
    status: Option<StatusField>,
    #[serde(default)]
    tags: Vec<String>,
    esim_installation_status: Option<String>,
}

/// What Tern keeps of a SIM card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCard {
    pub id: String,
    pub iccid: String,
    /// `registering`, `enabling`, `enabled`, `disabled`, `standby`, ...
    pub status: String,
    pub tags: Vec<String>,
    pub esim_installation_status: Option<String>,
}

impl From<SimCardWire> for SimCard {
    fn from(w: SimCardWire) -> Self {
        Self {
            id: w.id,
            iccid: w.iccid.unwrap_or_default(),
            status: w.status.map(|s| s.value().to_string()).unwrap_or_else(|| "unknown".into()),
            tags: w.tags,
            esim_installation_status: w.esim_installation_status,
        }
    }
}

/// The answer to a purchase: what was bought, and what failed (both may be non-empty).
#[derive(Debug, Clone)]
pub struct Purchase {
    pub sims: Vec<SimCard>,
    pub errors: Vec<ApiErrorItem>,
}

#[derive(Deserialize)]
struct One<T> {
    data: T,
}

#[derive(Deserialize)]
struct PageMeta {
    page_number: u32,
    total_pages: u32,
}

#[derive(Deserialize)]
struct Page<T> {
    data: Vec<T>,
    meta: Option<PageMeta>,
}

#[derive(Deserialize)]
struct PurchaseWire {
    #[serde(default)]
    data: Vec<SimCardWire>,
    #[serde(default)]
    errors: Vec<ApiErrorItem>,
}

#[derive(Deserialize)]
struct ActivationCodeWire {
    activation_code: String,
}

#[derive(Debug, Clone, Deserialize)]
struct ActionWire {
    id: String,
    status: StatusField,
}

/// Telnyx's API, or its emulator.
#[derive(Clone)]
pub struct TelnyxClient {
    http: reqwest::Client,
    base: String,
    api_key: SecretString,
    /// Pause between polls of an action; doubles up to 30 s.
    action_poll: Duration,
    /// How long to follow an action before giving up (retryable).
    action_deadline: Duration,
    read_timeout: Duration,
    write_timeout: Duration,
}

impl TelnyxClient {
    /// `base_url`: `https://api.telnyx.com/v2` or an emulator's.
    pub fn new(api_key: SecretString, base_url: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT).build()?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            api_key,
            action_poll: Duration::from_secs(1),
            action_deadline: Duration::from_secs(120),
            read_timeout: READ_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
        })
    }

    /// Shorter timeouts, for tests that make the emulator hang.
    pub fn with_timeouts(mut self, read: Duration, write: Duration) -> Self {
        self.read_timeout = read;
        self.write_timeout = write;
        self
    }

    /// Faster action polling, for tests against an emulator with instant actions.
    pub fn with_action_polling(mut self, first_poll: Duration, deadline: Duration) -> Self {
        self.action_poll = first_poll;
        self.action_deadline = deadline;
        self
    }

    fn request(&self, method: Method, path: &str, timeout: Duration) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.api_key.expose_secret())
            .header("accept", "application/json")
            .timeout(timeout)
    }

    /// Sends one request as `operation` (its name in the metrics).
    async fn send<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: RequestBuilder,
    ) -> Result<T, TelnyxError> {
        super::observed("telnyx", operation, self.exchange(request)).await
    }

    async fn exchange<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, TelnyxError> {
        let response = request.send().await.map_err(|e| TelnyxError::Retryable {
            reason: if e.is_timeout() { "request timed out".into() } else { format!("request failed: {e}") },
            retry_after: None,
        })?;
        let status = response.status();
        let reset = response
            .headers()
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(|e| TelnyxError::Retryable {
            reason: format!("reading the answer failed: {e}"),
            retry_after: None,
        })?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| TelnyxError::Retryable { reason: format!("unexpected answer: {e}"), retry_after: None });
        }
        let first = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(ErrorBody::Wrapped { errors }) => errors.into_iter().next(),
            Ok(ErrorBody::Bare(e)) => Some(e),
            Err(_) => None,
        };
        let (code, detail) = match first {
            Some(e) => (e.code, e.detail.unwrap_or(e.title)),
            None => (String::new(), String::from_utf8_lossy(&body).chars().take(200).collect()),
        };
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(TelnyxError::Retryable { reason: format!("rate limited ({code})"), retry_after: reset });
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Err(TelnyxError::Retryable { reason: format!("{status} {code}: {detail}"), retry_after: None });
        }
        Err(TelnyxError::Permanent { status: status.as_u16(), code, detail })
    }

    /// Buys `amount` eSIMs in a group (the default one when `None`), tagged with `tags`.
    /// There is no idempotency key: callers look the tag up before any retry.
    pub async fn purchase_esims(
        &self,
        amount: u32,
        group: Option<&str>,
        tags: &[String],
    ) -> Result<Purchase, TelnyxError> {
        let mut body = serde_json::json!({ "amount": amount, "status": "enabled", "tags": tags });
        if let Some(group) = group {
            body["sim_card_group_id"] = serde_json::Value::from(group);
        }
        let wire: PurchaseWire = self
            .send(
                "purchase_esims",
                self.request(Method::POST, "/actions/purchase/esims", self.write_timeout).json(&body),
            )
            .await?;
        Ok(Purchase { sims: wire.data.into_iter().map(SimCard::from).collect(), errors: wire.errors })
    }

    pub async fn get_sim(&self, id: &str) -> Result<SimCard, TelnyxError> {
        let one: One<SimCardWire> =
            self.send("get_sim", self.request(Method::GET, &format!("/sim_cards/{id}"), self.read_timeout)).await?;
        Ok(one.data.into())
    }

    /// Every SIM carrying `tag`, over all pages; re-checked here in case a filter form is ignored.
    pub async fn list_sims_by_tag(&self, tag: &str) -> Result<Vec<SimCard>, TelnyxError> {
        let mut found = Vec::new();
        let mut page_number = 1u32;
        loop {
            let page: Page<SimCardWire> = self
                .send(
                    "list_sim_cards",
                    self.request(Method::GET, "/sim_cards", self.read_timeout).query(&[
                        ("filter[tags][]", tag.to_string()),
                        ("page[number]", page_number.to_string()),
                        ("page[size]", PAGE_SIZE.to_string()),
                    ]),
                )
                .await?;
            let empty = page.data.is_empty();
            found.extend(page.data.into_iter().map(SimCard::from).filter(|s| s.tags.iter().any(|t| t == tag)));
            match page.meta {
                Some(meta) if !empty && meta.page_number < meta.total_pages => page_number = meta.page_number + 1,
                _ => return Ok(found),
            }
        }
    }

    /// One page of every SIM card on the account, `size` at most 250: the cards and the number
    /// of pages there are.
    pub async fn list_sims_page(&self, number: u32, size: u32) -> Result<(Vec<SimCard>, u32), TelnyxError> {
        let page: Page<SimCardWire> = self
            .send(
                "list_sim_cards",
                self.request(Method::GET, "/sim_cards", self.read_timeout)
                    .query(&[("page[number]", number.to_string()), ("page[size]", size.to_string())]),
            )
            .await?;
        let pages = page.meta.map(|m| m.total_pages).unwrap_or(number);
        Ok((page.data.into_iter().map(SimCard::from).collect(), pages))
    }

    /// The one-time activation code (`LPA:1$…`). Refused once the eSIM is installed.
    pub async fn activation_code(&self, id: &str) -> Result<String, TelnyxError> {
        let one: One<ActivationCodeWire> = self
            .send(
                "activation_code",
                self.request(Method::GET, &format!("/sim_cards/{id}/activation_code"), self.read_timeout),
            )
            .await?;
        Ok(one.data.activation_code)
    }

    /// Sets the SIM's own data limit, in MB (sent as a decimal string, as Telnyx expects).
    pub async fn set_data_limit(&self, id: &str, mb: u32) -> Result<SimCard, TelnyxError> {
        let body = serde_json::json!({ "data_limit": { "amount": format!("{mb}.0"), "unit": "MB" } });
        let one: One<SimCardWire> = self
            .send(
                "set_data_limit",
                self.request(Method::PATCH, &format!("/sim_cards/{id}"), self.read_timeout).json(&body),
            )
            .await?;
        Ok(one.data.into())
    }

    pub async fn enable(&self, id: &str) -> Result<SimCard, TelnyxError> {
        self.act(id, "enable").await
    }

    pub async fn disable(&self, id: &str) -> Result<SimCard, TelnyxError> {
        self.act(id, "disable").await
    }

    /// Starts an action, follows it until it ends, then re-reads the SIM.
    async fn act(&self, id: &str, action: &str) -> Result<SimCard, TelnyxError> {
        let started: One<ActionWire> = self
            .send(
                "sim_action",
                self.request(Method::POST, &format!("/sim_cards/{id}/actions/{action}"), self.write_timeout),
            )
            .await?;
        let mut current = started.data;
        let mut pause = self.action_poll;
        let deadline = tokio::time::Instant::now() + self.action_deadline;
        while current.status.value() == "in-progress" {
            if tokio::time::Instant::now() + pause > deadline {
                return Err(TelnyxError::Retryable {
                    reason: format!("{action} still in progress"),
                    retry_after: None,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(30));
            let polled: One<ActionWire> = self
                .send(
                    "get_sim_action",
                    self.request(Method::GET, &format!("/sim_card_actions/{}", current.id), self.read_timeout),
                )
                .await?;
            current = polled.data;
        }
        match current.status.value() {
            "completed" => self.get_sim(id).await,
            other => Err(TelnyxError::Permanent {
                status: 200,
                code: format!("action_{other}"),
                detail: format!("the {action} action ended {other}"),
            }),
        }
    }
}
