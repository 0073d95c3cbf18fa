//! The `tern` binary: logging, configuration, then the server, an admin command, key
//! rotation, or the emulators alone.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "tern", about = "Tern, the travel eSIM shop", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the shop (the default).
    Serve,
    /// Exit 0 when the server on `TERN_ADDR` answers `/healthz` (a container HEALTHCHECK).
    Healthcheck,
    /// Manage operators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Re-encrypt every sealed value (activation codes, kept API answers) with the first key of
    /// TERN_SECRET_KEYS, in batches each committed on its own; run it again after an interruption.
    RotateKey {
        /// Rows per batch (per transaction).
        #[arg(long, default_value_t = 500)]
        batch: i64,
    },
    /// Manage API keys (webhook management, operator reports).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Run only the Stripe and Telnyx emulators, on fixed loopback ports, until Ctrl-C (for
    /// mobile apps and other services); prints their URLs and keys.
    #[cfg(feature = "emulators")]
    Emulators {
        /// The Stripe emulator's port on 127.0.0.1.
        #[arg(long, env = "TERN_STRIPE_EMULATOR_PORT", default_value_t = 12111)]
        stripe_port: u16,
        /// The Telnyx emulator's port on 127.0.0.1.
        #[arg(long, env = "TERN_TELNYX_EMULATOR_PORT", default_value_t = 12112)]
        telnyx_port: u16,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin. The password is asked for, or read from the first line of standard
    /// input when it is not a terminal. An existing account is refused unless --promote.
    Create {
        #[arg(long)]
        email: String,
        /// Make an existing account an admin: its password becomes the one typed, its MFA is
        /// reset (enrolment at the next sign-in), its sessions end; audited.
        #[arg(long)]
        promote: bool,
    },
    /// Forget a user's second factor (a lost phone): they enrol again at their next sign-in.
    ResetMfa {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it once, on its own line (it is stored hashed: it cannot be
    /// shown again). Works while the shop is running.
    Create {
        /// Who uses it, e.g. the partner's name.
        #[arg(long)]
        name: String,
        /// `integrator` (manages its own webhook endpoints) or `admin` (every endpoint, reports).
        #[arg(long, value_parser = parse_role)]
        role: tern::domain::webhook::KeyRole,
    },
}

fn parse_role(s: &str) -> Result<tern::domain::webhook::KeyRole, String> {
    s.parse()
}

fn read_password() -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 10 characters): ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(std::io::Error::other("the passwords differ"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let logging = tern::telemetry::LogFormat::parse(std::env::var("TERN_LOG_FORMAT").ok().as_deref())
        .and_then(|format| tern::telemetry::init_logging(format, std::env::var("RUST_LOG").ok().as_deref()));
    if let Err(e) = logging {
        eprintln!("tern: configuration error: {e}");
        return ExitCode::from(2);
    }

    // The emulators alone need no configuration (and must not be refused by a production one).
    #[cfg(feature = "emulators")]
    if let Some(Command::Emulators { stripe_port, telnyx_port }) = cli.command {
        let localhost = std::net::Ipv4Addr::LOCALHOST;
        let stripe = (localhost, stripe_port).into();
        let telnyx = (localhost, telnyx_port).into();
        return exit_code(tern::startup::run_emulators(stripe, telnyx).await);
    }

    if let Some(Command::Healthcheck) = cli.command {
        let addr = std::env::var("TERN_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
        let probed = addr
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("TERN_ADDR: {addr:?} is not a socket address"))
            .and_then(|addr| tern::startup::probe_health(addr, std::time::Duration::from_secs(3)));
        return exit_code(probed);
    }

    let config = match tern::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tern: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => tern::startup::run(config).await,
        Command::Admin { command: AdminCommand::Create { email, promote } } => match read_password() {
            Ok(password) => tern::startup::create_admin(&config, &email, &password, promote).await.map(|user| {
                println!(
                    "Admin {} can now sign in at /account/sign-in, enrol an authenticator app, and open /admin.",
                    user.email
                );
            }),
            Err(e) => Err(anyhow::anyhow!("reading the password: {e}")),
        },
        Command::RotateKey { batch } => tern::startup::rotate_key(&config, batch.clamp(1, 10_000)).await.map(|r| {
            println!(
                "Re-encrypted {} activation codes and {} kept API answers in {} batches; every value is now \
                 sealed with the first key of TERN_SECRET_KEYS, and older keys can be removed.",
                r.activation_codes, r.idempotent_answers, r.batches
            );
        }),
        Command::Admin { command: AdminCommand::ResetMfa { email } } => {
            tern::startup::reset_mfa(&config, &email).await.map(|user| {
                println!("{}'s second factor is reset: they enrol again at their next sign-in.", user.email);
            })
        }
        Command::ApiKey { command: ApiKeyCommand::Create { name, role } } => {
            tern::startup::create_api_key(&config, &name, role).await.map(|key| {
                eprintln!("API key \"{}\" ({role}) created. It is shown only now; store it safely:", name.trim());
                println!("{key}");
            })
        }
        #[cfg(feature = "emulators")]
        Command::Emulators { .. } => unreachable!("handled before the configuration is read"),
        Command::Healthcheck => unreachable!("handled before the configuration is read"),
    };
    exit_code(result)
}

fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tern: {e:#}");
            ExitCode::FAILURE
        }
    }
}
