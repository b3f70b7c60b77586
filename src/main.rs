//! The `tokengate` command: `run` (default), `check`, `keygen`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of glibc's allocator: pingora and the gateway allocate and free per request
/// (headers, the decoded session), and glibc's `malloc`/`free` were 12 % of the cache-hit path's
/// samples under load (BENCHMARKS.md, "Profile of the cache-hit path").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Command::Check => match tokengate::config::check_file(&config_path(cli.config)) {
            Ok(checked) => {
                for warning in &checked.warnings {
                    println!("{warning}");
                }
                println!("ok");
                ExitCode::SUCCESS
            }
            Err(errors) => {
                println!("{errors}");
                ExitCode::from(1)
            }
        },
        Command::Run => {
            tokengate::logging::init(matches!(cli.log_format, LogFormat::Json));
            let path = config_path(cli.config);
            let config = match tokengate::config::check_file(&path) {
                Ok(checked) => {
                    checked.log_warnings();
                    checked.config
                }
                Err(errors) => {
                    eprintln!("{}: invalid configuration:\n{errors}", path.display());
                    return ExitCode::from(1);
                }
            };
            let gateway = match tokengate::server::build(config, &path) {
                Ok(g) => g,
                Err(e) => {
                    eprintln!("tokengate: {e}");
                    return ExitCode::from(1);
                }
            };
            tracing::info!(config = %path.display(), "tokengate starting");
            // Returning from `main` ends the process, pingora's threads included: that is how
            // a drained `SIGTERM` exits without waiting out the whole grace period.
            match gateway.run() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("tokengate: {e}");
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
