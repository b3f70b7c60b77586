//! Sessions: what they hold (`model`, and the user's `claims`), how long they live (`lifetime`), how they are sealed
//! (`codec`, pure), how the cookies carrying them are read and written (`cookie`), the sessions
//! already opened (`opened`), and the Redis store (`store`).

pub mod claims;
pub mod codec;
pub mod cookie;
pub mod lifetime;
pub mod model;
pub mod opened;
pub mod store;
