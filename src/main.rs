//! The `tern` binary: logging, configuration, then the server.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = match std::env::var("RUST_LOG") {
        Err(_) => EnvFilter::new("info,sqlx=warn,tower_http=info"),
        Ok(v) => match EnvFilter::try_new(&v) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("tern: configuration error: RUST_LOG: {v:?} is not a valid log filter ({e})");
                return ExitCode::from(2);
            }
        },
    };
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let config = match tern::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tern: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match tern::startup::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tern: {e:#}");
            ExitCode::FAILURE
        }
    }
}
