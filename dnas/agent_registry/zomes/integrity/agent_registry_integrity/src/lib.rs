//! agent_registry: who is in the mesh and what each peer can do. Entry and link types in the contract's order (an entry's index is its
//! position here, as in the embedded conductor); every op is validated by the shared rules crate.
use hdi::prelude::*;
use integrity_support::{DnaRules, JsonEntry};

/// `NodeCapability` of the contract (`zomes-bindings/agent_registry.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct NodeCapability(pub JsonEntry);

/// `Revocation` of the contract: an admin withdraws an agent or an unused invite (rules: revocation.*).
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Revocation(pub JsonEntry);

/// `LegacySeal` of the contract: an admin lists the uses of 0.1.0 invites it saw (rules: legacy_seal.*).
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct LegacySeal(pub JsonEntry);

#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
#[hdk_entry_types]
#[unit_enum(UnitEntryTypes)]
pub enum EntryTypes {
    NodeCapability(NodeCapability),
    Revocation(Revocation),
    LegacySeal(LegacySeal),
}

#[derive(Serialize, Deserialize)]
#[hdk_link_types]
pub enum LinkTypes {
    AllNodes,
    AgentToCapability,
    TagToAgent,
    AllRevocations,
    AllLegacySeals,
}

/// The entry type names in index order, as the rules name them.
pub const RULES: DnaRules = DnaRules { dna: "agent_registry", entry_types: &["NodeCapability", "Revocation", "LegacySeal"] };

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
