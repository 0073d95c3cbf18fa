//! What Tern tells its operators about itself: logs (human text, or JSON lines with
//! `TERN_LOG_FORMAT=json`) and the Prometheus metrics recorder every `metrics::counter!` and
//! `histogram!` in the crate reports to. The recorder is process-wide, installed once; the
//! metrics listener (`http::metrics`) renders it.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// How log lines are written (`TERN_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, with the current span's fields (request id, order id).
    Json,
}

impl LogFormat {
    /// Reads `TERN_LOG_FORMAT` (`text` or `json`; unset means text).
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("TERN_LOG_FORMAT: {other:?} is neither \"text\" nor \"json\"")),
        }
    }
}

/// The default filter: Tern at info, sqlx's statement logging quiet.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info";

/// Installs the process's log subscriber on standard error. `filter` is `RUST_LOG`.
pub fn init_logging(format: LogFormat, filter: Option<&str>) -> Result<(), String> {
    let filter = match filter {
        None => EnvFilter::new(DEFAULT_FILTER),
        Some(v) => EnvFilter::try_new(v).map_err(|e| format!("RUST_LOG: {v:?} is not a valid log filter ({e})"))?,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).flatten_event(true).init(),
    }
    Ok(())
}

/// Latency buckets in seconds, from a cached page to a slow provider call.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The process's metrics recorder, installed on first use.
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (a test harness): ours still renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_format_is_text_unless_json_is_asked_for() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("json")), Ok(LogFormat::Json));
        assert!(LogFormat::parse(Some("yaml")).unwrap_err().contains("TERN_LOG_FORMAT"));
    }
}
