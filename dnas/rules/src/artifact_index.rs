//! artifact_index: Artifact, PinCommitment.
//!
//! Artifacts are content-addressed, so never updated; their author may delete them. A PinCommitment's
//! holder is its author, it must name an Artifact with the same CID, and only the holder releases it.
use serde::Deserialize;

use crate::check::{nullable, Change, Ck, HashKind, Rules};
use crate::input::{Op, ValidationInput, Verdict};
use crate::limits::*;

pub fn rules(entry_type: &str) -> Option<Rules> {
    match entry_type {
        "Artifact" => Some(artifact),
        "PinCommitment" => Some(pin_commitment),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Provenance {
    #[serde(deserialize_with = "nullable")]
    task: Option<String>,
    #[serde(deserialize_with = "nullable")]
    result: Option<String>,
    input_cids: Vec<String>,
    tool: String,
    #[serde(deserialize_with = "nullable")]
    model: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Artifact {
    cid: String,
    size: u64,
    name: String,
    mime_type: String,
    sha256: String,
    provenance: Provenance,
    replication: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinCommitment {
    cid: String,
    artifact: String,
    holder: String,
}

fn artifact(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("artifact");
    ck.rights(input, Change::Never, Change::OriginalAuthor)?;
    if input.op == Op::Delete {
        return Ok(());
    }
    let a: Artifact = ck.parse(input.entry.as_deref())?;
    ck.cid("cid", &a.cid)?;
    ck.int("size", a.size, BYTES)?;
    ck.line("name", &a.name, ARTIFACT_NAME)?;
    ck.line("mime_type", &a.mime_type, ARTIFACT_MIME_TYPE)?;
    ck.format("mime_type", crate::check::is_mime(&a.mime_type), "a MIME type like \"application/json\"")?;
    ck.sha256("sha256", &a.sha256)?;
    let p = &a.provenance;
    ck.opt_hash("provenance.task", &p.task, HashKind::Action)?;
    ck.opt_hash("provenance.result", &p.result, HashKind::Action)?;
    ck.rule("provenance_result_without_task", p.result.is_none() || p.task.is_some(), || {
        "provenance.result needs provenance.task".into()
    })?;
    ck.count("provenance.input_cids", &p.input_cids, ARTIFACT_INPUT_CIDS)?;
    for cid in &p.input_cids {
        ck.cid("provenance.input_cids", cid)?;
    }
    ck.line("provenance.tool", &p.tool, ARTIFACT_TOOL)?;
    ck.opt_line("provenance.model", &p.model, MODEL_NAME)?;
    ck.int("replication", a.replication, ARTIFACT_REPLICATION)
}

fn pin_commitment(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("pin_commitment");
    ck.rights(input, Change::Never, Change::OriginalAuthor)?;
    if input.op == Op::Delete {
        return Ok(());
    }
    let p: PinCommitment = ck.parse(input.entry.as_deref())?;
    ck.cid("cid", &p.cid)?;
    ck.hash("artifact", &p.artifact, HashKind::Action)?;
    ck.hash("holder", &p.holder, HashKind::Agent)?;
    ck.rule("holder_is_author", p.holder == input.author, || "holder must be the commitment's author".into())?;

    input.need(&[&p.artifact])?;
    let (_, a): (_, Artifact) = input.dep_as(&p.artifact, "Artifact", "pin_commitment.artifact_type")?;
    ck.rule("cid_mismatch", a.cid == p.cid, || format!("the artifact's CID is {}, not {}", a.cid, p.cid))
}
