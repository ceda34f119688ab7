//! resource_mesh, a request routed straight to its runner, one record each (no longer written: such requests
//! are recorded in batches, see `resource_mesh_batches`; kept so records of earlier versions stay valid).
//!
//! The runner signs an Answer naming the request's hash and its requester; the requester records it as
//! Served, citing that Answer, which must be for the same request, kind and model, asked by the Served's
//! author and written by the runner it names; it is accepted only when the output the runner signed is the
//! output the requester served (so a mismatch is on record). Neither changes once written.
use serde::Deserialize;
use serde_json::Value;

use crate::check::{nullable, Change, Ck, HashKind};
use crate::input::{ValidationInput, Verdict};
use crate::limits::*;
use crate::membrane::{author_role, Role};
use crate::run_report::{metrics, usage, Metrics, Status, Usage};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    request: String,
    requester: String,
    kind: String,
    model: String,
    #[serde(deserialize_with = "nullable")]
    model_file_hash: Option<String>,
    status: Status,
    output: Value,
    output_hash: String,
    #[serde(deserialize_with = "nullable")]
    error: Option<String>,
    metrics: Metrics,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Served {
    request: String,
    kind: String,
    model: String,
    answer: String,
    runner: String,
    output_hash: String,
    accepted: bool,
    reason: String,
    usage: Usage,
}

pub fn answer(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("answer");
    ck.rights(input, Change::Never, Change::Never)?;
    let a: Answer = ck.parse(input.entry.as_deref())?;
    ck.sha256("request", &a.request)?;
    ck.hash("requester", &a.requester, HashKind::Agent)?;
    ck.dotted("kind", &a.kind, TASK_KIND)?;
    ck.line("model", &a.model, MODEL_NAME)?;
    if let Some(hash) = &a.model_file_hash {
        ck.sha256("model_file_hash", hash)?;
    }
    ck.json_size("output", &a.output, RESULT_OUTPUT_JSON_BYTES)?;
    ck.sha256("output_hash", &a.output_hash)?;
    ck.opt_prose("error", &a.error, RESULT_ERROR)?;
    ck.rule("error_required", a.status != Status::Error || a.error.is_some(), || {
        "an error answer needs an error message".into()
    })?;
    ck.rule("error_without_output", a.status != Status::Error || a.output.is_null(), || {
        "an error answer has no output".into()
    })?;
    metrics(&ck, &a.metrics)
}

pub fn served(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("served");
    ck.rights(input, Change::Never, Change::Never)?;
    ck.rule("author_role", author_role(&ck, input)? != Some(Role::Worker), || {
        "the author joined as a worker: workers run requests but do not send them".into()
    })?;
    let s: Served = ck.parse(input.entry.as_deref())?;
    ck.sha256("request", &s.request)?;
    ck.dotted("kind", &s.kind, TASK_KIND)?;
    ck.line("model", &s.model, MODEL_NAME)?;
    ck.hash("answer", &s.answer, HashKind::Action)?;
    ck.hash("runner", &s.runner, HashKind::Agent)?;
    ck.sha256("output_hash", &s.output_hash)?;
    ck.prose("reason", &s.reason, REASON)?;
    usage(&ck, &s.usage)?;

    input.need(&[&s.answer])?;
    let (answer_record, a): (_, Answer) = input.dep_as(&s.answer, "Answer", "served.answer_type")?;
    ck.rule("request_mismatch", a.request == s.request, || {
        format!("the answer is for request {}, not {}", a.request, s.request)
    })?;
    ck.rule("author_is_requester", input.author == a.requester, || {
        format!("only the requester {} may record this answer as served", a.requester)
    })?;
    ck.rule("runner_is_answer_author", answer_record.author == s.runner, || {
        format!("the answer was written by {}, not the runner {}", answer_record.author, s.runner)
    })?;
    ck.rule("kind_model_mismatch", a.kind == s.kind && a.model == s.model, || {
        format!("the answer is a {} on {}, not a {} on {}", a.kind, a.model, s.kind, s.model)
    })?;
    ck.rule("answer_status_mismatch", !s.accepted || a.status == Status::Ok, || {
        "an error answer cannot be accepted".into()
    })?;
    ck.rule("output_mismatch", !s.accepted || a.output_hash == s.output_hash, || {
        format!("the runner signed output {}, the requester served {}: not acceptable", a.output_hash, s.output_hash)
    })
}
