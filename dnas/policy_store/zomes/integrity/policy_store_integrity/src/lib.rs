//! policy_store: what is allowed, decided the same way everywhere. Entry and link types in the contract's order (an entry's index is its
//! position here, as in the embedded conductor); every op is validated by the shared rules crate.
use hdi::prelude::*;
use integrity_support::{DnaRules, JsonEntry};

/// `Policy` of the contract (`zomes-bindings/policy_store.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Policy(pub JsonEntry);

/// `AdminGrant` of the contract (`zomes-bindings/policy_store.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct AdminGrant(pub JsonEntry);

/// `Decision` of the contract (`zomes-bindings/policy_store.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Decision(pub JsonEntry);

/// `ModelAlias` of the contract (`zomes-bindings/policy_store.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct ModelAlias(pub JsonEntry);

#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
#[hdk_entry_types]
#[unit_enum(UnitEntryTypes)]
pub enum EntryTypes {
    Policy(Policy),
    AdminGrant(AdminGrant),
    Decision(Decision),
    ModelAlias(ModelAlias),
}

#[derive(Serialize, Deserialize)]
#[hdk_link_types]
pub enum LinkTypes {
    AllPolicies,
    PolicyIdToPolicy,
    AllAdmins,
    SubjectToDecisions,
    AllDecisions,
    AllModelAliases,
}

/// The entry type names in index order, as the rules name them.
pub const RULES: DnaRules = DnaRules { dna: "policy_store", entry_types: &["Policy", "AdminGrant", "Decision", "ModelAlias"] };

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
