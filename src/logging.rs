//! Log output: `tracing` to stderr, text or one JSON object per line, filtered by `RUST_LOG`
//! (else `TOKENGATE_LOG`, else `info`). pingora logs through the `log` crate; the subscriber's
//! bridge brings those lines into the same output and format.
//!
//! No log line may carry a token, cookie value, client secret or session key
//! (docs/reference.md#command-line). The gateway's own events never include them; pingora's do: at
//! `debug` it prints every header it sends upstream (`Authorization: Bearer ...`) and receives, and
//! at `trace` the client's request headers (`Cookie`). So pingora is capped at `info` whenever the
//! filter would let its debug output through, unless the filter names a pingora target itself — an
//! explicit `pingora_proxy=debug` is an operator's informed choice (see `docs/operations.md`).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The level pingora is capped at.
const PINGORA_CAP: &str = "pingora=info";

/// The filter directives to use, from the values of `RUST_LOG` and `TOKENGATE_LOG`.
pub fn filter_directives(rust_log: Option<&str>, tokengate_log: Option<&str>) -> String {
    let base = [rust_log, tokengate_log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("info");
    let directives = || base.split(',').map(str::trim).filter(|d| !d.is_empty());
    let names_pingora = directives().any(|d| d.starts_with("pingora"));
    // The last bare level is the default for every target no directive names.
    let default_is_verbose = directives()
        .rfind(|d| !d.contains('=') && !d.contains('['))
        .is_some_and(|level| {
            matches!(
                level.to_ascii_lowercase().as_str(),
                "debug" | "trace" | "4" | "5"
            )
        });
    if default_is_verbose && !names_pingora {
        format!("{base},{PINGORA_CAP}")
    } else {
        base.to_owned()
    }
}

/// Installs the global subscriber. `json`: one JSON object per line, event fields at the top
/// level (what log shippers index), else human-readable text, coloured only on a terminal.
pub fn init(json: bool) {
    let directives = filter_directives(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("TOKENGATE_LOG").ok().as_deref(),
    );
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("tokengate: invalid log filter {directives:?} ({e}); using \"info\"");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    if let Err(e) = installed {
        eprintln!("tokengate: logging not initialised: {e}");
    }
}

#[cfg(test)]
mod tests;
