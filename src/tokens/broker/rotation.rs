//! Whether the provider rotates refresh tokens, which decides whether exchanges of one session
//! for different audiences may overlap: with rotation, two exchanges in flight present the same
//! refresh token, which the provider punishes as reuse.

use crate::tokens::response::Exchange;
use std::sync::atomic::{AtomicU8, Ordering};

/// What is known about the provider's refresh-token rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Nothing yet: treated as rotating.
    Unknown,
    Rotates,
    DoesNotRotate,
}

impl Rotation {
    /// Whether exchanges of one session for different needs may run at the same time.
    pub fn allows_overlap(self) -> bool {
        self == Rotation::DoesNotRotate
    }

    fn to_u8(self) -> u8 {
        match self {
            Rotation::Unknown => 0,
            Rotation::Rotates => 1,
            Rotation::DoesNotRotate => 2,
        }
    }

    fn from_u8(v: u8) -> Rotation {
        match v {
            1 => Rotation::Rotates,
            2 => Rotation::DoesNotRotate,
            _ => Rotation::Unknown,
        }
    }
}

/// The process's knowledge of [`Rotation`], learned from answers.
pub(super) struct RotationKnowledge(AtomicU8);

impl RotationKnowledge {
    pub(super) fn new() -> Self {
        RotationKnowledge(AtomicU8::new(Rotation::Unknown.to_u8()))
    }

    pub(super) fn get(&self) -> Rotation {
        Rotation::from_u8(self.0.load(Ordering::Relaxed))
    }

    /// One rotating answer makes it [`Rotation::Rotates`] for good; a first answer without a new
    /// refresh token makes an unknown provider [`Rotation::DoesNotRotate`].
    pub(super) fn learn(&self, presented: &str, exchange: &Exchange) {
        if let Exchange::Success { refresh_token, .. } = exchange {
            let rotated = refresh_token.as_deref().is_some_and(|rt| rt != presented);
            if rotated {
                self.0.store(Rotation::Rotates.to_u8(), Ordering::Relaxed);
            } else {
                let _ = self.0.compare_exchange(
                    Rotation::Unknown.to_u8(),
                    Rotation::DoesNotRotate.to_u8(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
        }
    }
}
