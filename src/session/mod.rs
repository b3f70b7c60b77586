//! Sessions: what they hold (`model`), how they are sealed into cookies (`codec`), and how the
//! `Cookie` / `Set-Cookie` headers carrying them are read and written (`cookies`), and the sessions
//! already opened (`opened`).

pub mod codec;
pub mod cookies;
pub mod lifetime;
pub mod model;
pub mod opened;
pub mod store;
