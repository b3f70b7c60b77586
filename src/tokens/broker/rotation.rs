//! Whether exchanges of one session may overlap. With refresh-token rotation, two exchanges in
//! flight present the same refresh token, which the provider punishes as reuse (it revokes the
//! grant). Providers rotate always, never, or only sometimes (late in a token's life, per grant,
//! after an admin flips a switch), so no answer proves that the next one will not rotate: only
//! the operator's declaration (`provider.rotates_refresh_tokens`,
//! `docs/reference.md#provider`) relaxes the one-exchange-at-a-time rule, never an observation.

use crate::tokens::response::Exchange;

/// What the operator declared about the provider's refresh-token rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The provider rotates, or may (the default): one exchange at a time per session.
    MayRotate,
    /// Declared never to rotate: exchanges of one session for different needs may overlap.
    Never,
}

impl Rotation {
    /// From `provider.rotates_refresh_tokens`.
    pub fn declared(rotates_refresh_tokens: bool) -> Rotation {
        if rotates_refresh_tokens {
            Rotation::MayRotate
        } else {
            Rotation::Never
        }
    }

    /// Whether exchanges of one session for different needs may run at the same time.
    pub fn allows_overlap(self) -> bool {
        self == Rotation::Never
    }

    /// True when `exchange` rotated the refresh token although the provider was declared never
    /// to: the declaration is wrong, and overlapping exchanges are about to be reuse.
    pub fn contradicted_by(self, presented: &str, exchange: &Exchange) -> bool {
        self == Rotation::Never && exchange.refresh_token().is_some_and(|rt| rt != presented)
    }
}

#[cfg(test)]
mod tests;
