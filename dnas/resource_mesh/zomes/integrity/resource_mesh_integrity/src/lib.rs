//! resource_mesh: tasks and their life, and direct requests recorded in batches. Entry and link types in the
//! contract's order (an entry's index is its position here, as in the embedded conductor); every op is
//! validated by the shared rules crate. `AnswerLeaves`, `ServedLeaves` and `TaskPayload` are private (the contract's
//! `privateEntryTypes`): their author validates them whole; other peers hold their actions only.
use hdi::prelude::*;
use integrity_support::{DnaRules, JsonEntry};

/// `Task` of the contract (`zomes-bindings/resource_mesh.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Task(pub JsonEntry);

/// `Claim` of the contract (`zomes-bindings/resource_mesh.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Claim(pub JsonEntry);

/// `Assignment` of the contract (`zomes-bindings/resource_mesh.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Assignment(pub JsonEntry);

/// `Result` of the contract (`zomes-bindings/resource_mesh.ts`); the rules crate checks every field.
/// Named TaskResult in Rust so it does not shadow `Result`; the entry type (variant) is `Result`.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct TaskResult(pub JsonEntry);

/// `Receipt` of the contract (`zomes-bindings/resource_mesh.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Receipt(pub JsonEntry);

/// `Cancellation` of the contract (`zomes-bindings/resource_mesh.ts`); the rules crate checks every field.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Cancellation(pub JsonEntry);

/// `Answer` of the contract (`zomes-bindings/resource_mesh.ts`): a runner's result of a direct request.
/// No longer written (direct requests are recorded in batches); kept so earlier records stay valid.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Answer(pub JsonEntry);

/// `Served` of the contract (`zomes-bindings/resource_mesh.ts`): the requester's record of a direct request.
/// No longer written, like `Answer`.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct Served(pub JsonEntry);

/// `AnswerLeaves` of the contract (`zomes-bindings/resource_mesh_batches.ts`): a runner's answers of one
/// window. Private: on the runner's chain only; the mesh sees its action and its hash.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct AnswerLeaves(pub JsonEntry);

/// `AnswerBatch` of the contract: the root and totals of a runner's window, citing its `AnswerLeaves`.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct AnswerBatch(pub JsonEntry);

/// `ServedLeaves` of the contract: a requester's requests of one window, each with the runner's proof.
/// Private, like `AnswerLeaves`.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct ServedLeaves(pub JsonEntry);

/// `ServedBatch` of the contract: the root and totals of what a requester served in a window.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct ServedBatch(pub JsonEntry);

/// `TaskPayload` of the contract: a task's input or output as its requester or assignee keeps it.
/// Private, like `AnswerLeaves`: the Task and the Result publish only its hash.
#[hdk_entry_helper]
#[derive(Clone, PartialEq)]
pub struct TaskPayload(pub JsonEntry);

#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
#[hdk_entry_types]
#[unit_enum(UnitEntryTypes)]
pub enum EntryTypes {
    Task(Task),
    Claim(Claim),
    Assignment(Assignment),
    Result(TaskResult),
    Receipt(Receipt),
    Cancellation(Cancellation),
    Answer(Answer),
    Served(Served),
    #[entry_type(visibility = "private")]
    AnswerLeaves(AnswerLeaves),
    AnswerBatch(AnswerBatch),
    #[entry_type(visibility = "private")]
    ServedLeaves(ServedLeaves),
    ServedBatch(ServedBatch),
    #[entry_type(visibility = "private")]
    TaskPayload(TaskPayload),
}

#[derive(Serialize, Deserialize)]
#[hdk_link_types]
pub enum LinkTypes {
    OpenTasks,
    TaskToClaims,
    TaskToAssignments,
    TaskToResults,
    TaskToReceipt,
    TaskToCancellation,
    /// No longer written; kept so links written by earlier versions stay valid.
    AgentToAssignments,
    /// Anchor -> Served, tagged with the request hash. No longer written (served requests are recorded in
    /// batches, on the requester's own chain); kept so links written by earlier versions stay valid.
    ServedRequests,
}

/// The entry type names in index order, as the rules name them.
pub const RULES: DnaRules = DnaRules {
    dna: "resource_mesh",
    entry_types: &[
        "Task",
        "Claim",
        "Assignment",
        "Result",
        "Receipt",
        "Cancellation",
        "Answer",
        "Served",
        "AnswerLeaves",
        "AnswerBatch",
        "ServedLeaves",
        "ServedBatch",
        "TaskPayload",
    ],
};

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
