//! The `Cookie` request header: the one parser of its `name=value` pairs, and the copy without
//! the gateway's own cookies that goes upstream.

use http::HeaderMap;

/// The `(name, value)` pairs of every `Cookie` field of a request, in order (HTTP/2 may split
/// the cookies into many fields). Fields that are not text are skipped.
pub fn pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_cookie_header)
}

/// The value of the first cookie called `name`.
pub fn find<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    pairs(headers).find(|(n, _)| *n == name).map(|(_, v)| v)
}

/// The `(name, value)` pairs of one `Cookie` header (`a=1; b=2`), in order. Whitespace around
/// names and values is trimmed; a value keeps any `=` it contains; pieces without `=` or with an
/// empty name are skipped, since no cookie of ours looks like that.
pub fn parse_cookie_header(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value.split(';').filter_map(|piece| {
        let (name, value) = piece.split_once('=')?;
        let name = name.trim_matches(is_space);
        (!name.is_empty()).then(|| (name, value.trim_matches(is_space)))
    })
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The `Cookie` header without the cookies whose name `drop` selects, for the upstream request.
/// The remaining pieces keep their order and bytes (joined by `; `), including pieces this
/// module cannot parse: they are the upstream's business. `None` when nothing remains, so the
/// caller removes the header instead of sending an empty one.
pub fn strip_cookies(header: &str, drop: impl Fn(&str) -> bool) -> Option<String> {
    let kept: Vec<&str> = header
        .split(';')
        .map(|piece| piece.trim_matches(is_space))
        .filter(|piece| !piece.is_empty())
        .filter(|piece| match piece.split_once('=') {
            Some((name, _)) => !drop(name.trim_matches(is_space)),
            None => true,
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}
