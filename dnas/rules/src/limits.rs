//! The bounds shared with the zod contract, generated from `zomes-bindings/limits.json` by build.rs.

/// An inclusive range: characters for text, items for lists, the value for numbers.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

include!(concat!(env!("OUT_DIR"), "/limits.rs"));
