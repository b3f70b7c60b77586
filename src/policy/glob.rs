//! The one pattern language of `require:` values: `*` matches any run of characters (also none),
//! every other character matches itself, case included (`*@example.com`). A pattern is split at
//! its `*`s once, when the config is loaded, so matching a request is a few `starts_with`,
//! `ends_with` and `find` calls: no regular expression, no allocation.

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    /// The pattern as written, for messages and for `acr_values`.
    text: String,
    shape: Shape,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    /// No `*`: the whole value must be equal.
    Exact,
    /// `prefix*…*suffix`: starts with `prefix`, ends with `suffix`, and holds each `middle`
    /// piece in order in between.
    Wild {
        prefix: String,
        middle: Vec<String>,
        suffix: String,
    },
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let mut pieces: Vec<&str> = pattern.split('*').collect();
        let shape = if pieces.len() == 1 {
            Shape::Exact
        } else {
            let suffix = pieces.pop().unwrap_or_default().to_owned();
            let prefix = pieces.first().copied().unwrap_or_default().to_owned();
            let middle = pieces
                .iter()
                .skip(1)
                .filter(|p| !p.is_empty())
                .map(|p| (*p).to_owned())
                .collect();
            Shape::Wild {
                prefix,
                middle,
                suffix,
            }
        };
        Glob {
            text: pattern.to_owned(),
            shape,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the pattern has a `*`.
    pub fn is_wild(&self) -> bool {
        matches!(self.shape, Shape::Wild { .. })
    }

    /// True when `value` matches the whole pattern.
    pub fn matches(&self, value: &str) -> bool {
        match &self.shape {
            Shape::Exact => value == self.text,
            Shape::Wild {
                prefix,
                middle,
                suffix,
            } => {
                if value.len() < prefix.len() + suffix.len()
                    || !value.starts_with(prefix.as_str())
                    || !value.ends_with(suffix.as_str())
                {
                    return false;
                }
                // The part between prefix and suffix; the length check above keeps them apart.
                let Some(mut rest) = value.get(prefix.len()..value.len() - suffix.len()) else {
                    return false;
                };
                for piece in middle {
                    match rest.find(piece.as_str()) {
                        Some(at) => rest = &rest[at + piece.len()..],
                        None => return false,
                    }
                }
                true
            }
        }
    }
}

#[cfg(test)]
mod tests;
