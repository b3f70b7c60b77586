//! Unit tests of `tokens::cache`: scope matching on the grant, the leeway edge, primary vs
//! additional tokens, narrow grants, pruning and LRU eviction.

use super::*;
use crate::session::model::User;

const LEEWAY: u64 = 60;
const NOW: u64 = 1_000_000;

fn tok(audience: Option<&str>, granted: &str, requested: &str, expires_at: u64) -> TokenSet {
    TokenSet {
        audience: audience.map(str::to_owned),
        scope: Scope::parse(granted),
        requested: Scope::parse(requested),
        access_token: format!("at-{}-{granted}-{expires_at}", audience.unwrap_or("login")),
        expires_at,
        last_used: 0,
    }
}

fn used(mut t: TokenSet, last_used: u64) -> TokenSet {
    t.last_used = last_used;
    t
}

fn session(primary: Option<TokenSet>, extra: Vec<TokenSet>) -> Session {
    let mut s = Session::new(User::default(), 0);
    s.primary = primary;
    s.extra = extra;
    s
}

fn sc(s: &str) -> Scope {
    Scope::parse(s)
}

const LATER: u64 = NOW + 3600;

fn hit_token<'a>(sel: &Selection<'a>) -> &'a str {
    match sel {
        Selection::Hit(t) => &t.access_token,
        other => panic!("expected a hit, got {other:?}"),
    }
}

mod select;
mod store;
