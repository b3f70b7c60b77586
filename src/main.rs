//! The `tokengate` command: `run` (default), `check`, `keygen`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "tokengate",
    version,
    about = "A token gateway: encrypted session cookies in, Bearer tokens out"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Config file (default: $TOKENGATE_CONFIG, then ./routes.yaml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Log line format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Run,
    /// Validate the config and print every problem with its field path.
    Check,
    /// Print a fresh random 32-byte session key (base64url, no padding).
    Keygen,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        Command::Keygen => {
            println!("{}", tokengate::session::codec::generate_key());
            ExitCode::SUCCESS
        }
        Command::Check => match tokengate::config::load_file(&config_path(cli.config)) {
            Ok(_) => {
                println!("ok");
                ExitCode::SUCCESS
            }
            Err(errors) => {
                println!("{errors}");
                ExitCode::from(1)
            }
        },
        Command::Run => {
            init_logging(cli.log_format);
            let path = config_path(cli.config);
            let config = match tokengate::config::load_file(&path) {
                Ok(c) => c,
                Err(errors) => {
                    eprintln!("{}: invalid configuration:\n{errors}", path.display());
                    return ExitCode::from(1);
                }
            };
            match tokengate::server::build(config) {
                Ok((server, _app)) => {
                    tracing::info!(config = %path.display(), "tokengate starting");
                    tokengate::server::run(server);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tokengate: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn config_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("TOKENGATE_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("routes.yaml"))
}

/// `RUST_LOG`, else `TOKENGATE_LOG`, else `info`. pingora logs through `log`; the subscriber's
/// log bridge brings those lines into the same output.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("TOKENGATE_LOG"))
        .unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(cap_pingora(&filter)))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// pingora's debug and trace lines print whole request headers — the upstream request's
/// `Authorization: Bearer` among them — so its targets are held at `info` unless the filter
/// names a pingora target itself (an operator debugging pingora who accepts that).
fn cap_pingora(filter: &str) -> String {
    if filter.contains("pingora") {
        filter.to_owned()
    } else {
        format!("{filter},pingora_core=info,pingora_proxy=info,pingora_pool=info,pingora=info")
    }
}
