//! Ripple's entry validation rules for all five DNAs, in one pure crate (serde only).
//!
//! The Holochain integrity zomes call [`validate`] from their `validate` callbacks; the embedded
//! conductor runs this crate compiled to `wasm32-unknown-unknown` (see `abi`) on every op it stores or
//! receives. Both hand in a [`ValidationInput`]: the op, its entry, the record it updates or deletes, the
//! DNA properties, and any records the rules asked for (`deps`). A rule that needs a record it was not
//! given answers `Unresolved` with the action hashes to fetch.
mod agent_registry;
mod artifact_index;
/// The batch entries and their leaf bytes, for the coordinator zome too.
pub mod batches;
mod blake2b;
mod check;
mod input;
#[allow(dead_code)] // limits.json also bounds heartbeat signals, which are not entries
mod limits;
mod membrane;
mod memory_shards;
/// RFC 9162 Merkle trees over blake2b-256, as zomes-bindings/merkle.ts.
pub mod merkle;
mod policy_store;
mod resource_mesh;
mod resource_mesh_batches;
mod resource_mesh_direct;
mod run_report;

#[cfg(all(target_arch = "wasm32", feature = "abi"))]
mod abi;

use check::{Ck, HashKind, Rules};
pub use input::{invalid, Dep, Op, Outcome, ValidationInput, Verdict};
pub use membrane::ISSUED_AT_SKEW_MS;

/// Validates the JSON of a `ValidationInput`.
pub fn validate_json(bytes: &[u8]) -> Outcome {
    match serde_json::from_slice::<ValidationInput>(bytes) {
        Ok(input) => validate(&input),
        Err(e) => invalid("input.malformed", format!("not a ValidationInput: {e}")),
    }
}

pub fn validate(input: &ValidationInput) -> Outcome {
    match run(input) {
        Ok(()) => Outcome::Valid,
        Err(outcome) => outcome,
    }
}

fn run(input: &ValidationInput) -> Verdict {
    let rules_of: fn(&str) -> Option<Rules> = match input.dna.as_str() {
        "agent_registry" => agent_registry::rules,
        "resource_mesh" => resource_mesh::rules,
        "policy_store" => policy_store::rules,
        "artifact_index" => artifact_index::rules,
        "memory_shards" => memory_shards::rules,
        other => return Err(invalid("input.dna_unknown", format!("no DNA named {other:?}"))),
    };
    let own_rules = if input.entry_type == membrane::ENTRY_TYPE { Some(membrane::membrane_proof as Rules) } else { rules_of(&input.entry_type) };
    let rules = own_rules.ok_or_else(|| {
        invalid("input.entry_type_unknown", format!("{} has no entry type {:?}", input.dna, input.entry_type))
    })?;
    let ck = Ck::new("input");
    ck.hash("author", &input.author, HashKind::Agent)?;
    if input.op != Op::Create {
        let original = input
            .original
            .as_ref()
            .ok_or_else(|| ck.fail("original_missing", "an update or delete needs the original record"))?;
        ck.rule("original_type_mismatch", original.entry_type == input.entry_type, || {
            format!("a {} op cannot target a {}", input.entry_type, original.entry_type)
        })?;
    }
    rules(input)
}
