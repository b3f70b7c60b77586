//! The exchange with the cookie store: the latest state is this process's slot, and the cookie
//! the response writes carries it to the browser. The outcome is applied to the slot's state *at
//! commit time*, so exchanges that ran in parallel (a provider that does not rotate) all keep
//! what they added.

use super::exchange::ReportMeta;
use super::slot::{SessionSlot, SlotState};
use super::transition::{self, Answer, Next};
use super::{Broker, SessionView, Settings, TokenNeed};
use crate::session::model::now;
use crate::tokens::TokenError;
use std::sync::Arc;
use std::time::Instant;

impl Broker {
    /// One exchange for `need`, the session's exchange lock already held.
    pub(super) async fn exchange_in_memory(
        &self,
        slot: &SessionSlot,
        view: &mut SessionView,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        waited_since: Instant,
    ) -> Answer {
        // Our turn: work from the latest state, never from what we read before waiting.
        let session = match slot.current() {
            SlotState::Ended => return Err(TokenError::SessionExpired),
            SlotState::Live(s) => s,
        };
        view.session = session.clone();
        if let Some(done) = self.reselect(slot, &session, need, settings, waited_since) {
            return done;
        }
        let report = match self.call(&session, need, settings, || async {}).await {
            Ok(r) => r,
            Err(e) => {
                if e == TokenError::SessionExpired {
                    slot.set(SlotState::Ended);
                }
                return Err(e);
            }
        };
        let meta = ReportMeta::of(&report);
        let answer = slot.with_state(|state| match state {
            SlotState::Ended => Err(TokenError::SessionExpired),
            SlotState::Live(current) => {
                let (next, answer) =
                    transition::apply(current, need, settings.policy, report.exchange, now());
                match next {
                    Next::Keep => {}
                    Next::Ended => *state = SlotState::Ended,
                    Next::Version(mut next) => {
                        self.fit_cookie(&mut next, settings.policy, Some(need));
                        let next = Arc::new(*next);
                        *state = SlotState::Live(next.clone());
                        view.session = next;
                    }
                }
                answer
            }
        });
        self.finish(slot, need, meta, answer)
    }
}
