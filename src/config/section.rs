//! The table every section of `routes.yaml` is written as. One row per key names the key (which is
//! also the field of the typed struct), what happens when the key is absent, and the reader that
//! checks and converts its value:
//!
//! ```text
//! section!(w, path, node, ServerConfig {
//!     listen:       required                      => read::parsed(fields::socket_addr),
//!     admin_listen: optional                      => read::parsed(fields::socket_addr),
//!     grace_period: default(Duration::from_secs(30)) => read::duration,
//! })
//! ```
//!
//! Absent-key kinds: `required` (an error names the key), `optional` (an `Option` field, `None`),
//! `default(expr)` (the one place that default is written), and `nested` (a sub-section whose own
//! table holds the defaults: an absent key is read as an empty mapping).
//!
//! The expansion reads the mapping in document order, reports unknown keys with the list of
//! allowed ones (in row order), then applies the absent-key rules in row order, and yields
//! `Field::Value(struct)` only when every key was good. Checks that span several keys run after
//! it, in the section's own function, on the typed struct.

/// Reads the mapping `node` at `path` into `$ty`; see the module documentation. The values read
/// so far live in a local struct (`Slots`, one field per key) rather than in local variables, so
/// that a key may have the same name as its reader function (`keys: required => keys`).
macro_rules! section {
    ($w:expr, $path:expr, $node:expr, $ty:ident {
        $( $key:ident : $kind:ident $( ($default:expr) )? => $read:expr ),+ $(,)?
    }) => {{
        use $crate::config::walker::{join, Field, Walker};
        #[allow(non_camel_case_types)]
        struct Slots<$( $key ),+> {
            $( $key: Field<$key> ),+
        }
        let w: &mut Walker = $w;
        let path: &str = $path;
        match w.entries(path, $node) {
            None => Field::Bad,
            Some(entries) => {
                const KEYS: &[&str] = &[$( stringify!($key) ),+];
                let mut slots = Slots { $( $key: Field::Absent ),+ };
                for (key, value) in entries {
                    let key_path = join(path, key);
                    match key.as_str() {
                        $( stringify!($key) => slots.$key = ($read)(&mut *w, &key_path, value), )+
                        _ => w.unknown_key(&key_path, KEYS),
                    }
                }
                // A tuple is evaluated left to right: the absent-key rules run in row order.
                match ($( $crate::config::section::section!(
                    @absent w, path, slots, $key, $read, $kind $( ($default) )?
                ), )+) {
                    ($( Some($key), )+) => Field::Value($ty { $( $key ),+ }),
                    _ => Field::Bad,
                }
            }
        }
    }};
    (@absent $w:ident, $path:ident, $slots:ident, $key:ident, $read:expr, required) => {
        $w.required(&join($path, stringify!($key)), $slots.$key)
    };
    (@absent $w:ident, $path:ident, $slots:ident, $key:ident, $read:expr, optional) => {
        $slots.$key.optional()
    };
    (@absent $w:ident, $path:ident, $slots:ident, $key:ident, $read:expr, default($d:expr)) => {
        $slots.$key.or($d)
    };
    (@absent $w:ident, $path:ident, $slots:ident, $key:ident, $read:expr, nested) => {
        match $slots.$key {
            Field::Absent => ($read)(
                &mut *$w,
                &join($path, stringify!($key)),
                &$crate::config::yaml::Node::Null,
            ),
            field => field,
        }
        .value()
    };
}

pub(crate) use section;
