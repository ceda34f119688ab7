//! Direct requests, written in batches (a private leaves entry and a public batch per window) and read
//! back from this agent's own chain; their Merkle proofs come from the rules crate, which checks them.
use coordinator_support::*;
use hdk::prelude::*;
use resource_mesh_integrity::{
    entry_index, AnswerBatch, AnswerLeaves, EntryTypes, ServedBatch, ServedLeaves, UnitEntryTypes,
};
use ripple_rules::batches;
use serde_json::{json, Value};

use crate::own_chain::{batch_citing, own_leaves, own_records};

/// A runner's window of direct answers: its leaves (private, on this chain only), then the public batch
/// of their root and count citing them.
#[hdk_extern]
pub fn post_answer_batch(window: Value) -> ExternResult<BatchRef> {
    let leaves = EntryTypes::AnswerLeaves(AnswerLeaves(window["leaves"].clone()));
    write_window(leaves, &window, |batch| EntryTypes::AnswerBatch(AnswerBatch(batch)))
}

/// A requester's window of what it served, each request with the runner's proof: likewise, but its public
/// batch says no count (count 1, accepted 0: `SERVED_PUBLIC` in zomes-bindings says why).
#[hdk_extern]
pub fn record_served_batch(window: Value) -> ExternResult<BatchRef> {
    let leaves = EntryTypes::ServedLeaves(ServedLeaves(window["leaves"].clone()));
    write_window(leaves, &window, |mut batch| {
        batch["totals"]["count"] = json!(1);
        batch["accepted"] = json!(0);
        EntryTypes::ServedBatch(ServedBatch(batch))
    })
}

/// What this agent holds of a request it ran or asked for, from its own chain (the leaves are private):
/// as runner, its leaf with the path against its batch; as requester, its leaf, its batch and the runner's
/// batch the proof cites (null while that has not reached this peer). Null when it did neither.
#[hdk_extern]
pub fn get_served(request: String) -> ExternResult<Option<serde_json::Value>> {
    let answered = answered(&request)?;
    let served = served(&request)?;
    if answered.is_none() && served.is_none() {
        return Ok(None);
    }
    Ok(Some(json!({ "request": request, "answered": answered, "served": served })))
}

/// A runner's public batch by its action hash (every peer holds them); None when unknown.
#[hdk_extern]
pub fn get_answer_batch(batch: String) -> ExternResult<Option<EntryRecord>> {
    live_entry_record(action_hash(&batch)?, entry_index(UnitEntryTypes::AnswerBatch), &Standing::held()?)
}

/// This agent's own windows of direct requests closed from `since` (microseconds) on, oldest first, each as
/// it was written (its private leaves and its bounds): what its usage totals are rebuilt from.
#[hdk_extern]
pub fn list_own_windows(since: i64) -> ExternResult<serde_json::Value> {
    Ok(json!({
        "answered": own_windows(UnitEntryTypes::AnswerLeaves, UnitEntryTypes::AnswerBatch, since)?,
        "served": own_windows(UnitEntryTypes::ServedLeaves, UnitEntryTypes::ServedBatch, since)?,
    }))
}

/// This chain's windows of one kind closed from `since` on: each batch with the leaves it cites.
fn own_windows(leaves_type: UnitEntryTypes, batch_type: UnitEntryTypes, since: i64) -> ExternResult<Vec<Value>> {
    let leaves: std::collections::HashMap<String, Value> = own_records(leaves_type)?
        .iter()
        .filter_map(|r| Some((b64(r.action().entry_hash()?), to_entry_record(r).ok()?.entry)))
        .collect();
    let mut windows = Vec::new();
    // own_records answers newest first.
    for record in own_records(batch_type)?.iter().rev() {
        let batch = to_entry_record(record)?.entry;
        let Some(cited) = batch["leaves"].as_str().and_then(|hash| leaves.get(hash)) else { continue };
        if batch["closed_at"].as_i64().is_some_and(|at| at >= since) {
            windows.push(json!({ "leaves": cited, "opened_at": batch["opened_at"], "closed_at": batch["closed_at"] }));
        }
    }
    Ok(windows)
}

/// What a batch write returns: the public batch's action and the private leaves' entry.
#[derive(Serialize, Deserialize, Debug)]
pub struct BatchRef {
    pub batch: String,
    pub leaves: String,
}

/// Writes a window's leaves entry, then its batch (`batch_of` the root, the leaves' entry hash, the count
/// with no tokens, as `publicTotals` in zomes-bindings says why, and the window's bounds).
fn write_window(leaves: EntryTypes, window: &Value, batch_of: impl FnOnce(Value) -> EntryTypes) -> ExternResult<BatchRef> {
    let leaves_hash = hash_entry(&leaves)?;
    create_entry(&leaves)?;
    let batch = batch_of(json!({
        "root": window["leaves"]["root"],
        "leaves": b64(&leaves_hash),
        "totals": json!({ "count": window["leaves"]["totals"]["count"], "tokens_in": 0, "tokens_out": 0 }),
        "opened_at": window["opened_at"],
        "closed_at": window["closed_at"],
    }));
    let batch_hash = create_entry(&batch)?;
    Ok(BatchRef { batch: b64(&batch_hash), leaves: b64(&leaves_hash) })
}

/// As runner: the leaf of `request` in this agent's newest AnswerLeaves holding it, its proof against the
/// AnswerBatch citing those leaves, and that batch.
fn answered(request: &str) -> ExternResult<Option<Value>> {
    let answer_batches = own_records(UnitEntryTypes::AnswerBatch)?;
    for record in own_records(UnitEntryTypes::AnswerLeaves)? {
        let Some((leaves_hash, _, leaves)) = own_leaves::<batches::AnswerLeaves>(&record) else { continue };
        let Some(index) = leaves.leaves.iter().position(|l| l.request == request) else { continue };
        // Written in the same call as its leaves: none means none to show (as the embedded zome answers).
        let Some(batch) = batch_citing(&answer_batches, &leaves_hash)? else { return Ok(None) };
        let Some(proof) = batches::answer_proof(&batch.action_hash, &leaves.leaves, index) else { continue };
        return Ok(Some(json!({ "proof": proof, "batch": batch })));
    }
    Ok(None)
}

/// As requester: the leaf of `request` in this agent's newest ServedLeaves holding it, the ServedBatch
/// citing those leaves, and the runner's AnswerBatch its proof cites (None until it reaches this peer).
fn served(request: &str) -> ExternResult<Option<Value>> {
    let served_batches = own_records(UnitEntryTypes::ServedBatch)?;
    for record in own_records(UnitEntryTypes::ServedLeaves)? {
        let Some((leaves_hash, entry, leaves)) = own_leaves::<batches::ServedLeaves>(&record) else { continue };
        let Some(index) = leaves.leaves.iter().position(|s| s.request == request) else { continue };
        // Written in the same call as its leaves: none means none to show (as the embedded zome answers).
        let Some(batch) = batch_citing(&served_batches, &leaves_hash)? else { return Ok(None) };
        let runner_batch = match &leaves.leaves[index].proof {
            Some(proof) => {
                let batch_index = entry_index(UnitEntryTypes::AnswerBatch);
                live_entry_record(action_hash(&proof.batch)?, batch_index, &Standing::held()?)?
            }
            None => None,
        };
        return Ok(Some(json!({ "leaf": entry["leaves"][index], "batch": batch, "runner_batch": runner_batch })));
    }
    Ok(None)
}
