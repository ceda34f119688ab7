//! resource_mesh coordinator: the contract's functions (zomes-bindings/resource_mesh.ts), as the
//! embedded conductor runs them (host/conductor/embedded/zomes/resource-mesh.ts): tasks are linked from
//! an open-tasks anchor, everything about a task from the task, and a task's state is derived from
//! those records the same way on every peer. Direct requests are written in batches (`served_batches`). A
//! task's input and output are kept private by its two parties (`keep_payload`, `get_payload`): the Task
//! and the Result publish only their hashes.
use std::collections::{BTreeMap, BTreeSet};

use coordinator_support::*;
// Ours (one name), not the hdk prelude's `anchor` (type, text), which the glob imports would make ambiguous.
use coordinator_support::anchor;
use hdk::prelude::*;
use resource_mesh_integrity::{
    entry_index, Assignment, Cancellation, Claim, EntryTypes, LinkTypes, Receipt, Task, TaskPayload, TaskResult,
    UnitEntryTypes,
};
use serde_json::{json, Value};

mod own_chain;
mod served_batches;

use own_chain::own_records;

const OPEN_TASKS: &str = "open_tasks";

#[hdk_extern]
pub fn init(_: ()) -> ExternResult<InitCallbackResult> {
    grant_remote_signals()
}

#[hdk_extern]
pub fn submit_task(task: Value) -> ExternResult<RecordRef> {
    let hash = create_entry(&EntryTypes::Task(Task(task)))?;
    // Tagged with the task, so closing it finds its link without reading every open task's.
    create_link(anchor(OPEN_TASKS)?, hash.clone(), LinkTypes::OpenTasks, LinkTag::new(hash.get_raw_39().to_vec()))?;
    record_ref(&hash)
}

#[hdk_extern]
pub fn claim_task(claim: Value) -> ExternResult<RecordRef> {
    write_about(EntryTypes::Claim(Claim(claim.clone())), &claim, LinkTypes::TaskToClaims)
}

#[hdk_extern]
pub fn assign_task(assignment: Value) -> ExternResult<RecordRef> {
    write_about(EntryTypes::Assignment(Assignment(assignment.clone())), &assignment, LinkTypes::TaskToAssignments)
}

#[hdk_extern]
pub fn post_result(result: Value) -> ExternResult<RecordRef> {
    write_about(EntryTypes::Result(TaskResult(result.clone())), &result, LinkTypes::TaskToResults)
}

#[hdk_extern]
pub fn issue_receipt(receipt: Value) -> ExternResult<RecordRef> {
    let r = write_about(EntryTypes::Receipt(Receipt(receipt.clone())), &receipt, LinkTypes::TaskToReceipt)?;
    close_task(&receipt)?;
    Ok(r)
}

#[hdk_extern]
pub fn cancel_task(cancellation: Value) -> ExternResult<RecordRef> {
    let r = write_about(
        EntryTypes::Cancellation(Cancellation(cancellation.clone())),
        &cancellation,
        LinkTypes::TaskToCancellation,
    )?;
    close_task(&cancellation)?;
    Ok(r)
}

#[hdk_extern]
pub fn list_open_tasks(_: ()) -> ExternResult<Vec<EntryRecord>> {
    let now = sys_time()?.as_micros();
    let held = Standing::held()?;
    let mut seen = BTreeSet::new();
    let mut open = Vec::new();
    for link in get_links(LinkQuery::try_new(anchor(OPEN_TASKS)?, LinkTypes::OpenTasks)?, GetStrategy::Network)? {
        let Some(target) = link.target.into_action_hash() else { continue };
        let Some(task) = live_entry_record(target, entry_index(UnitEntryTypes::Task), &held)? else { continue };
        // Only the task's author opens it; a link by anyone else is noise.
        if task.author != b64(&link.author) || !seen.insert(task.action_hash.clone()) {
            continue;
        }
        // Cheaper than the whole state: what ends a task without more records is the deadline.
        if task.entry["deadline"].as_i64().unwrap_or(0) < now {
            continue;
        }
        if !by_task_author(&task, LinkTypes::TaskToReceipt, UnitEntryTypes::Receipt, &held)?.is_empty()
            || !by_task_author(&task, LinkTypes::TaskToCancellation, UnitEntryTypes::Cancellation, &held)?.is_empty()
        {
            continue;
        }
        open.push(task);
    }
    Ok(open)
}

#[hdk_extern]
pub fn get_task_state(task_hash: String) -> ExternResult<Option<serde_json::Value>> {
    let held = Standing::held()?;
    let Some(task) = live_entry_record(action_hash(&task_hash)?, entry_index(UnitEntryTypes::Task), &held)? else {
        return Ok(None);
    };
    let claims = about(&task, LinkTypes::TaskToClaims, UnitEntryTypes::Claim, &held)?;
    let mut assignments = by_task_author(&task, LinkTypes::TaskToAssignments, UnitEntryTypes::Assignment, &held)?;
    assignments.sort_by_key(|a| (num(&a.entry, "attempt"), a.timestamp));
    // The rules let only an assignment's assignee post a result for it.
    let results: Vec<EntryRecord> = about(&task, LinkTypes::TaskToResults, UnitEntryTypes::Result, &held)?
        .into_iter()
        .filter(|r| assignments.iter().any(|a| Some(a.action_hash.as_str()) == r.str_field("assignment")))
        .collect();
    let receipt = by_task_author(&task, LinkTypes::TaskToReceipt, UnitEntryTypes::Receipt, &held)?.into_iter().next();
    let cancellation =
        by_task_author(&task, LinkTypes::TaskToCancellation, UnitEntryTypes::Cancellation, &held)?.into_iter().next();
    let status = task_status(&task, &claims, &assignments, &results, &receipt, &cancellation, sys_time()?.as_micros());
    Ok(Some(json!({
        "task": task,
        "claims": claims,
        "assignments": assignments,
        "results": results,
        "receipt": receipt,
        "cancellation": cancellation,
        "status": status,
    })))
}

#[derive(Deserialize, Debug)]
pub struct ListTasks {
    pub limit: usize,
}

/// The newest `limit` tasks ever opened, open or finished, newest first: the open anchor's links with
/// their deletes (a finished task's link is deleted, not gone).
#[hdk_extern]
pub fn list_tasks(input: ListTasks) -> ExternResult<Vec<EntryRecord>> {
    let query = LinkQuery::try_new(anchor(OPEN_TASKS)?, LinkTypes::OpenTasks)?;
    let mut creates: Vec<CreateLink> = get_links_details(query, GetStrategy::Network)?
        .into_inner()
        .into_iter()
        .filter_map(|(create, _deletes)| match create.action() {
            Action::CreateLink(link) => Some(link.clone()),
            _ => None,
        })
        .collect();
    creates.sort_by_key(|link| std::cmp::Reverse(link.timestamp));
    let held = Standing::held()?;
    let mut seen = BTreeSet::new();
    let mut tasks = Vec::new();
    for link in creates {
        if tasks.len() >= input.limit {
            break;
        }
        let Some(target) = link.target_address.into_action_hash() else { continue };
        let Some(task) = live_entry_record(target, entry_index(UnitEntryTypes::Task), &held)? else { continue };
        // Only the task's author opens it; a link by anyone else is noise.
        if task.author != b64(&link.author) || !seen.insert(task.action_hash.clone()) {
            continue;
        }
        tasks.push(task);
    }
    Ok(tasks)
}

/// Keeps a task's input or output on this agent's own chain (private: the mesh sees only its action).
#[hdk_extern]
pub fn keep_payload(payload: Value) -> ExternResult<RecordRef> {
    let hash = create_entry(&EntryTypes::TaskPayload(TaskPayload(payload)))?;
    record_ref(&hash)
}

/// A payload this agent kept, by its hash, from its own chain; None on every other peer.
#[hdk_extern]
pub fn get_payload(hash: String) -> ExternResult<Option<serde_json::Value>> {
    for record in own_records(UnitEntryTypes::TaskPayload)? {
        let Ok(payload) = to_entry_record(&record) else { continue };
        if payload.entry["hash"].as_str() == Some(hash.as_str()) {
            return Ok(Some(payload.entry));
        }
    }
    Ok(None)
}

#[hdk_extern]
pub fn broadcast_signal(payload: Value) -> ExternResult<()> {
    broadcast(payload)
}

#[hdk_extern]
pub fn send_signal(input: SendSignalInput) -> ExternResult<()> {
    send_to(input)
}

#[hdk_extern]
pub fn recv_remote_signal(payload: Value) -> ExternResult<()> {
    receive(payload)
}

fn num(entry: &Value, key: &str) -> i64 {
    entry[key].as_i64().unwrap_or(0)
}

/// The task's status, as `deriveTaskStatus` in the embedded zome derives it.
fn task_status(
    task: &EntryRecord,
    claims: &[EntryRecord],
    assignments: &[EntryRecord],
    results: &[EntryRecord],
    receipt: &Option<EntryRecord>,
    cancellation: &Option<EntryRecord>,
    now: i64,
) -> &'static str {
    if cancellation.is_some() {
        return "cancelled";
    }
    if let Some(receipt) = receipt {
        let result = results.iter().find(|r| Some(r.action_hash.as_str()) == receipt.str_field("result"));
        let accepted = receipt.entry["accepted"].as_bool() == Some(true);
        return if accepted && result.and_then(|r| r.str_field("status")) == Some("ok") { "done" } else { "failed" };
    }
    if num(&task.entry, "deadline") < now {
        return "expired";
    }
    let max_attempts = num(&task.entry, "max_attempts");
    // The newest attempt of each slot.
    let mut current: BTreeMap<i64, &EntryRecord> = BTreeMap::new();
    for a in assignments {
        let slot = num(&a.entry, "slot");
        if current.get(&slot).is_none_or(|held| num(&a.entry, "attempt") > num(&held.entry, "attempt")) {
            current.insert(slot, a);
        }
    }
    let slots: Vec<&str> = current
        .values()
        .map(|a| {
            let result = results.iter().find(|r| r.str_field("assignment") == Some(a.action_hash.as_str()));
            let last_attempt = num(&a.entry, "attempt") >= max_attempts;
            match result {
                Some(r) if r.str_field("status") == Some("error") && last_attempt => "failed",
                Some(_) => "running",
                None if num(&a.entry, "lease_expires_at") >= now => "assigned",
                None if last_attempt => "failed",
                None => "waiting",
            }
        })
        .collect();
    if slots.contains(&"assigned") {
        return "assigned";
    }
    if slots.contains(&"running") {
        return "running";
    }
    if slots.len() as i64 == num(&task.entry, "fan_out") && slots.iter().all(|s| *s == "failed") {
        return "failed";
    }
    let assigned: BTreeSet<&str> = assignments.iter().filter_map(|a| a.str_field("assignee")).collect();
    if claims.iter().any(|c| !assigned.contains(c.author.as_str())) {
        "claimed"
    } else {
        "submitted"
    }
}

fn write_about(entry: EntryTypes, fields: &Value, link_type: LinkTypes) -> ExternResult<RecordRef> {
    let task = action_hash(fields["task"].as_str().unwrap_or_default())?;
    let hash = create_entry(&entry)?;
    create_link(task, hash.clone(), link_type, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

/// Removes this author's open-tasks link to the task named in `fields`.
fn close_task(fields: &Value) -> ExternResult<()> {
    let task = action_hash(fields["task"].as_str().unwrap_or_default())?;
    let me = agent_info()?.agent_initial_pubkey;
    let query = LinkQuery::try_new(anchor(OPEN_TASKS)?, LinkTypes::OpenTasks)?;
    let tagged = get_links(query.clone().tag_prefix(LinkTag::new(task.get_raw_39().to_vec())), GetStrategy::Network)?;
    // A task opened before links were tagged has an untagged link: found among all of them.
    let links = if tagged.is_empty() { get_links(query, GetStrategy::Network)? } else { tagged };
    for link in links {
        if link.author == me && link.target.clone().into_action_hash().as_ref() == Some(&task) {
            delete_link(link.create_link_hash, GetOptions::network())?;
        }
    }
    Ok(())
}

/// Live records of one type linked from the task that name it, once each, oldest first.
fn about(task: &EntryRecord, link_type: LinkTypes, unit: UnitEntryTypes, held: &Standing) -> ExternResult<Vec<EntryRecord>> {
    Ok(linked_records(action_hash(&task.action_hash)?, link_type, entry_index(unit), held)?
        .into_iter()
        .filter(|r| r.str_field("task") == Some(task.action_hash.as_str()))
        .collect())
}

/// Those written by the task's author (assignments, receipts and cancellations are the author's).
fn by_task_author(
    task: &EntryRecord,
    link_type: LinkTypes,
    unit: UnitEntryTypes,
    held: &Standing,
) -> ExternResult<Vec<EntryRecord>> {
    Ok(about(task, link_type, unit, held)?.into_iter().filter(|r| r.author == task.author).collect())
}
