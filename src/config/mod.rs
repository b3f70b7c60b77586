//! `routes.yaml` → a validated [`Config`]. Loading reports *every* problem with its field path
//! (`routes[2].upstream: ...`), because an operator fixing a config wants the whole list at once.

mod fields;
mod interpolate;
mod limits;
mod load;
pub mod model;
mod routes;
mod sections;
#[cfg(test)]
mod tests;
mod walker;
mod yaml;

pub use load::{load_file, parse_str, ConfigError, ConfigErrors};
pub use model::*;
