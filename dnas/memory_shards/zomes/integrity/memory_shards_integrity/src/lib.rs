//! memory_shards: a vector memory spread over the mesh. Entry and link types in the contract's order (an entry's index is its
//! position here, as in the embedded conductor); every op is validated by the shared rules crate.
use hdi::prelude::*;
use integrity_support::{DnaRules, JsonEntry};

/// `Collection` of the contract (`zomes-bindings/memory_shards.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Collection(pub JsonEntry);

/// `ShardHolder` of the contract (`zomes-bindings/memory_shards.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct ShardHolder(pub JsonEntry);

/// `ShardSnapshot` of the contract (`zomes-bindings/memory_shards.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct ShardSnapshot(pub JsonEntry);

#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
#[hdk_entry_types]
#[unit_enum(UnitEntryTypes)]
pub enum EntryTypes {
    Collection(Collection),
    ShardHolder(ShardHolder),
    ShardSnapshot(ShardSnapshot),
}

#[derive(Serialize, Deserialize)]
#[hdk_link_types]
pub enum LinkTypes {
    AllCollections,
    CollectionToHolders,
    ShardToSnapshots,
}

/// The entry type names in index order, as the rules name them.
pub const RULES: DnaRules = DnaRules { dna: "memory_shards", entry_types: &["Collection", "ShardHolder", "ShardSnapshot"] };

/// The entry index of an entry type (coordinators filter records by it).
pub fn entry_index(unit: UnitEntryTypes) -> u8 {
    unit as u8
}

#[hdk_extern]
pub fn validate(op: Op) -> ExternResult<ValidateCallbackResult> {
    RULES.validate(op)
}

/// On a network that requires invites, no cell without a valid invite as its membrane proof.
#[hdk_extern]
pub fn genesis_self_check(data: GenesisSelfCheckData) -> ExternResult<ValidateCallbackResult> {
    RULES.genesis_self_check(data)
}
