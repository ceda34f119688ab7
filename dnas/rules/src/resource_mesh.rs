//! resource_mesh: Task, Claim, Assignment, Result, Receipt, Cancellation and TaskPayload here (a task's
//! input and output, private: the Task and Result publish only their hashes); a request routed straight
//! to its runner (no scheduling round) is recorded in batches (`resource_mesh_batches`: AnswerLeaves,
//! AnswerBatch, ServedLeaves, ServedBatch), once one record each (`resource_mesh_direct`: Answer, Served,
//! no longer written but still valid).
//!
//! Only the task's author assigns, issues receipts and cancels; only the assignee posts a Result for its
//! assignment; a Claim's author is the claimant and its snapshot must meet the task's requirements.
//! Apart from a claimant withdrawing its Claim, the life of a task is append-only. On a network that
//! requires invites, an agent invited as a worker claims and runs tasks but cannot submit them.
//!
//! Fan-out: a task with fan_out N has slots 0..N-1, each assigned (and reassigned up to max_attempts) on
//! its own, so up to N attempts are live at once. That the slots go to different claimants is the
//! requester's choice: an op carries no view of its sibling assignments. The Receipt's votes (one per
//! answer judged) must each name a Result of this task by its author, at most fan_out of them.
use serde::Deserialize;
use serde_json::Value;

use crate::check::{nullable, Change, Ck, HashKind, Rules};
use crate::input::{Op, ValidationInput, Verdict};
use crate::limits::*;
use crate::membrane::{author_role, Role};
use crate::run_report::{metrics, usage, Metrics, Status, Usage};
use crate::{resource_mesh_batches, resource_mesh_direct};

pub fn rules(entry_type: &str) -> Option<Rules> {
    match entry_type {
        "Task" => Some(task),
        "Claim" => Some(claim),
        "Assignment" => Some(assignment),
        "Result" => Some(result),
        "Receipt" => Some(receipt),
        "Cancellation" => Some(cancellation),
        "Answer" => Some(resource_mesh_direct::answer),
        "Served" => Some(resource_mesh_direct::served),
        "AnswerLeaves" => Some(resource_mesh_batches::answer_leaves),
        "AnswerBatch" => Some(resource_mesh_batches::answer_batch),
        "ServedLeaves" => Some(resource_mesh_batches::served_leaves),
        "ServedBatch" => Some(resource_mesh_batches::served_batch),
        "TaskPayload" => Some(task_payload),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirements {
    min_ram_bytes: u64,
    min_vram_bytes: u64,
    gpu: bool,
    min_cores: u64,
    #[serde(deserialize_with = "nullable")]
    model: Option<String>,
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Task {
    kind: String,
    input_hash: String,
    input_bytes: u64,
    #[serde(deserialize_with = "nullable")]
    input_cid: Option<String>,
    requirements: Requirements,
    lease_ms: u64,
    deadline: u64,
    max_attempts: u64,
    fan_out: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimSnapshot {
    cores: u64,
    ram_bytes: u64,
    vram_bytes: u64,
    gpu_count: u64,
    models: Vec<String>,
    loaded_models: Vec<String>,
    tags: Vec<String>,
    queue_depth: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Claim {
    task: String,
    snapshot: ClaimSnapshot,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assignment {
    task: String,
    claim: String,
    assignee: String,
    slot: u64,
    attempt: u64,
    lease_expires_at: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskResult {
    task: String,
    assignment: String,
    status: Status,
    #[serde(deserialize_with = "nullable")]
    output_cid: Option<String>,
    output_hash: String,
    #[serde(deserialize_with = "nullable")]
    error: Option<String>,
    metrics: Metrics,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vote {
    result: String,
    assignee: String,
    #[serde(deserialize_with = "nullable")]
    model_file_hash: Option<String>,
    #[serde(deserialize_with = "nullable")]
    group: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    similarity: Option<f64>,
    agree: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Receipt {
    task: String,
    result: String,
    accepted: bool,
    reason: String,
    usage: Usage,
    votes: Vec<Vote>,
}

/// Entry type `TaskPayload` (private): a task's input or output on one of its two parties' chains.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskPayload {
    hash: String,
    content: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cancellation {
    task: String,
    reason: String,
}

fn task(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("task");
    ck.rights(input, Change::Never, Change::Never)?;
    ck.rule("author_role", author_role(&ck, input)? != Some(Role::Worker), || {
        "the author joined as a worker: workers run tasks but do not submit them".into()
    })?;
    let t: Task = ck.parse(input.entry.as_deref())?;
    ck.dotted("kind", &t.kind, TASK_KIND)?;
    ck.sha256("input_hash", &t.input_hash)?;
    ck.int("input_bytes", t.input_bytes, BYTES)?;
    if let Some(cid) = &t.input_cid {
        ck.cid("input_cid", cid)?;
    }
    let r = &t.requirements;
    ck.int("requirements.min_ram_bytes", r.min_ram_bytes, BYTES)?;
    ck.int("requirements.min_vram_bytes", r.min_vram_bytes, BYTES)?;
    ck.rule("requirements_vram_without_gpu", r.gpu || r.min_vram_bytes == 0, || {
        "requirements.min_vram_bytes above 0 needs requirements.gpu".into()
    })?;
    ck.int("requirements.min_cores", r.min_cores, TASK_MIN_CORES)?;
    ck.opt_line("requirements.model", &r.model, MODEL_NAME)?;
    ck.count("requirements.tags", &r.tags, TASK_REQUIREMENT_TAGS)?;
    for tag in &r.tags {
        ck.tag("requirements.tags", tag)?;
    }
    ck.int("lease_ms", t.lease_ms, TASK_LEASE_MS)?;
    ck.int("deadline", t.deadline, TIMESTAMP)?;
    ck.int("max_attempts", t.max_attempts, TASK_MAX_ATTEMPTS)?;
    ck.int("fan_out", t.fan_out, TASK_FAN_OUT)
}

/// Only its author holds it (private): that it is well formed is all there is to check.
fn task_payload(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("task_payload");
    ck.rights(input, Change::Never, Change::Never)?;
    let p: TaskPayload = ck.parse(input.entry.as_deref())?;
    ck.sha256("hash", &p.hash)?;
    ck.json_size("content", &p.content, TASK_PAYLOAD_JSON_BYTES)
}

fn claim(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("claim");
    ck.rights(input, Change::Never, Change::OriginalAuthor)?;
    if input.op == Op::Delete {
        return Ok(());
    }
    let c: Claim = ck.parse(input.entry.as_deref())?;
    ck.hash("task", &c.task, HashKind::Action)?;
    let s = &c.snapshot;
    ck.int("snapshot.cores", s.cores, CLAIM_CORES)?;
    ck.int("snapshot.ram_bytes", s.ram_bytes, BYTES)?;
    ck.int("snapshot.vram_bytes", s.vram_bytes, BYTES)?;
    ck.int("snapshot.gpu_count", s.gpu_count, CLAIM_GPU_COUNT)?;
    for (field, names) in [("snapshot.models", &s.models), ("snapshot.loaded_models", &s.loaded_models)] {
        ck.count(field, names, CLAIM_MODELS)?;
        for name in names {
            ck.line(field, name, MODEL_NAME)?;
        }
    }
    ck.count("snapshot.tags", &s.tags, CLAIM_TAGS)?;
    for tag in &s.tags {
        ck.tag("snapshot.tags", tag)?;
    }
    ck.int("snapshot.queue_depth", s.queue_depth, CLAIM_QUEUE_DEPTH)?;

    input.need(&[&c.task])?;
    let (_, t): (_, Task) = input.dep_as(&c.task, "Task", "claim.task_type")?;
    let r = &t.requirements;
    let unmet = if s.ram_bytes < r.min_ram_bytes {
        Some(format!("{} bytes of RAM, the task needs {}", s.ram_bytes, r.min_ram_bytes))
    } else if s.vram_bytes < r.min_vram_bytes {
        Some(format!("{} bytes of VRAM, the task needs {}", s.vram_bytes, r.min_vram_bytes))
    } else if r.gpu && s.gpu_count == 0 {
        Some("no GPU, the task needs one".into())
    } else if s.cores < r.min_cores {
        Some(format!("{} cores, the task needs {}", s.cores, r.min_cores))
    } else if let Some(model) = r.model.as_ref().filter(|m| !s.models.contains(m)) {
        Some(format!("no model {model:?}"))
    } else {
        r.tags.iter().find(|tag| !s.tags.contains(tag)).map(|tag| format!("no tag {tag:?}"))
    };
    match unmet {
        Some(why) => Err(ck.fail("meets_requirements", format!("the claim's snapshot has {why}"))),
        None => Ok(()),
    }
}

fn assignment(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("assignment");
    ck.rights(input, Change::Never, Change::Never)?;
    let a: Assignment = ck.parse(input.entry.as_deref())?;
    ck.hash("task", &a.task, HashKind::Action)?;
    ck.hash("claim", &a.claim, HashKind::Action)?;
    ck.hash("assignee", &a.assignee, HashKind::Agent)?;
    ck.int("slot", a.slot, ASSIGNMENT_SLOT)?;
    ck.int("attempt", a.attempt, ASSIGNMENT_ATTEMPT)?;
    ck.int("lease_expires_at", a.lease_expires_at, TIMESTAMP)?;

    input.need(&[&a.task, &a.claim])?;
    let (task_record, t): (_, Task) = input.dep_as(&a.task, "Task", "assignment.task_type")?;
    let (claim_record, c): (_, Claim) = input.dep_as(&a.claim, "Claim", "assignment.claim_type")?;
    ck.rule("author_is_task_author", input.author == task_record.author, || {
        format!("only the task's author {} may assign it", task_record.author)
    })?;
    ck.rule("claim_task_mismatch", c.task == a.task, || format!("the claim is for task {}, not this one", c.task))?;
    ck.rule("assignee_is_claimant", a.assignee == claim_record.author, || {
        format!("the assignee must be the claim's author {}", claim_record.author)
    })?;
    ck.rule("attempt_exceeds_max", a.attempt <= t.max_attempts, || {
        format!("attempt {} is above the task's max_attempts {}", a.attempt, t.max_attempts)
    })?;
    ck.rule("slot_exceeds_fan_out", a.slot < t.fan_out, || {
        format!("slot {} is beyond the task's fan_out {} (slots count from 0)", a.slot, t.fan_out)
    })
}

fn result(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("result");
    ck.rights(input, Change::Never, Change::Never)?;
    let r: TaskResult = ck.parse(input.entry.as_deref())?;
    ck.hash("task", &r.task, HashKind::Action)?;
    ck.hash("assignment", &r.assignment, HashKind::Action)?;
    if let Some(cid) = &r.output_cid {
        ck.cid("output_cid", cid)?;
    }
    ck.sha256("output_hash", &r.output_hash)?;
    ck.opt_prose("error", &r.error, RESULT_ERROR)?;
    ck.rule("error_required", r.status != Status::Error || r.error.is_some(), || {
        "an error result needs an error message".into()
    })?;
    metrics(&ck, &r.metrics)?;

    input.need(&[&r.assignment])?;
    let (_, a): (_, Assignment) = input.dep_as(&r.assignment, "Assignment", "result.assignment_type")?;
    ck.rule("task_mismatch", a.task == r.task, || format!("the assignment is for task {}, not this one", a.task))?;
    ck.rule("author_is_assignee", input.author == a.assignee, || {
        format!("only the assignee {} may post a result for this assignment", a.assignee)
    })
}

fn receipt(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("receipt");
    ck.rights(input, Change::Never, Change::Never)?;
    let r: Receipt = ck.parse(input.entry.as_deref())?;
    ck.hash("task", &r.task, HashKind::Action)?;
    ck.hash("result", &r.result, HashKind::Action)?;
    ck.prose("reason", &r.reason, REASON)?;
    usage(&ck, &r.usage)?;
    ck.count("votes", &r.votes, RECEIPT_VOTES)?;
    for v in &r.votes {
        ck.hash("votes.result", &v.result, HashKind::Action)?;
        ck.hash("votes.assignee", &v.assignee, HashKind::Agent)?;
        if let Some(hash) = &v.model_file_hash {
            ck.sha256("votes.model_file_hash", hash)?;
        }
        ck.opt_int("votes.group", v.group, RECEIPT_GROUP)?;
        ck.opt_num("votes.similarity", v.similarity, RECEIPT_SIMILARITY)?;
    }
    ck.unique("votes.result", r.votes.iter().map(|v| v.result.as_str()))?;
    let chosen = r.votes.iter().find(|v| v.result == r.result);
    ck.rule("result_not_voted", r.votes.is_empty() || chosen.is_some(), || {
        "the chosen result must have a vote".into()
    })?;
    if let Some(chosen) = chosen {
        ck.rule("accepted_without_group", !r.accepted || chosen.group.is_some(), || {
            "an accepted result must be an answer (its vote needs a group)".into()
        })?;
        for v in &r.votes {
            let agrees = v.group.is_some() && v.group == chosen.group;
            ck.rule("vote_agree_mismatch", v.agree == agrees, || {
                format!("the vote for {} must say agree: {agrees} (its group against the chosen result's)", v.result)
            })?;
        }
    }

    let mut needed = vec![r.task.as_str(), r.result.as_str()];
    needed.extend(r.votes.iter().map(|v| v.result.as_str()));
    input.need(&needed)?;
    let (task_record, t): (_, Task) = input.dep_as(&r.task, "Task", "receipt.task_type")?;
    let (_, result): (_, TaskResult) = input.dep_as(&r.result, "Result", "receipt.result_type")?;
    ck.rule("author_is_task_author", input.author == task_record.author, || {
        format!("only the task's author {} may issue its receipt", task_record.author)
    })?;
    ck.rule("task_mismatch", result.task == r.task, || format!("the result is for task {}, not this one", result.task))?;
    ck.rule("votes_exceed_fan_out", r.votes.len() as u64 <= t.fan_out, || {
        format!("{} votes, the task's fan_out is {}", r.votes.len(), t.fan_out)
    })?;
    for v in &r.votes {
        let (voted, vr): (_, TaskResult) = input.dep_as(&v.result, "Result", "receipt.vote_result_type")?;
        ck.rule("vote_task_mismatch", vr.task == r.task, || {
            format!("the voted result {} is for task {}, not this one", v.result, vr.task)
        })?;
        ck.rule("vote_assignee_mismatch", voted.author == v.assignee, || {
            format!("the voted result {} was written by {}, not {}", v.result, voted.author, v.assignee)
        })?;
    }
    Ok(())
}

fn cancellation(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("cancellation");
    ck.rights(input, Change::Never, Change::Never)?;
    let c: Cancellation = ck.parse(input.entry.as_deref())?;
    ck.hash("task", &c.task, HashKind::Action)?;
    ck.prose("reason", &c.reason, REASON)?;

    input.need(&[&c.task])?;
    let (task_record, _): (_, Task) = input.dep_as(&c.task, "Task", "cancellation.task_type")?;
    ck.rule("author_is_task_author", input.author == task_record.author, || {
        format!("only the task's author {} may cancel it", task_record.author)
    })
}
