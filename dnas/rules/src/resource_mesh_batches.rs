//! resource_mesh, requests routed straight to a runner, recorded in batches (zomes-bindings/
//! resource_mesh_batches.ts): a runner's `AnswerLeaves` (private) and `AnswerBatch` (public) per window, a
//! requester's `ServedLeaves` (private) and `ServedBatch` (public). None of them changes once written.
//!
//! Leaves entries are checked whole: their count and token totals are their leaves', their root the Merkle
//! root of their leaves (`batches::answer_leaf_bytes` / `served_leaf_bytes`). A public batch is checked on
//! its own: the leaves it cites are private, so other peers see only their hash. Each served leaf that
//! carries the runner's proof is checked against the runner's `AnswerBatch` it cites: written by that
//! runner, of that many leaves, the path proving that leaf (this request, asked by this requester, on this
//! model) against its root; accepted only when the runner signed an ok answer with the output served.
use crate::batches::{
    answer_leaf_bytes, answer_root, served_root, AnswerBatch, AnswerLeaf, AnswerLeaves, BatchTotals, LeafProof,
    LeafStatus, ServedBatch, ServedLeaf, ServedLeaves,
};
use crate::check::{Change, Ck, HashKind};
use crate::input::{of_leaf, ValidationInput, Verdict};
use crate::limits::*;
use crate::membrane::{author_role, Role};
use crate::merkle::{self, Digest};

const PROOF_INDEX: Range = Range { min: 0, max: BATCH_LEAVES.max - 1 };

pub fn answer_leaves(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("answer_leaves");
    ck.rights(input, Change::Never, Change::Never)?;
    let e: AnswerLeaves = ck.parse(input.entry.as_deref())?;
    ck.digest("root", &e.root)?;
    totals(&ck, &e.totals)?;
    ck.count("leaves", &e.leaves, BATCH_LEAVES)?;
    for leaf in &e.leaves {
        answer_leaf(&ck, "leaves", leaf)?;
    }
    let sums = e.leaves.iter().map(|l| (l.tokens_in, l.tokens_out));
    counts_and_sums(&ck, &e.totals, e.leaves.len(), sums)?;
    root(&ck, &e.root, answer_root(&e.leaves))
}

pub fn answer_batch(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("answer_batch");
    ck.rights(input, Change::Never, Change::Never)?;
    let b: AnswerBatch = ck.parse(input.entry.as_deref())?;
    ck.digest("root", &b.root)?;
    ck.hash("leaves", &b.leaves, HashKind::Entry)?;
    totals(&ck, &b.totals)?;
    window(&ck, b.opened_at, b.closed_at)
}

pub fn served_leaves(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("served_leaves");
    ck.rights(input, Change::Never, Change::Never)?;
    not_worker(&ck, input)?;
    let e: ServedLeaves = ck.parse(input.entry.as_deref())?;
    ck.digest("root", &e.root)?;
    totals(&ck, &e.totals)?;
    ck.int("accepted", e.accepted, BATCH_ACCEPTED)?;
    ck.count("leaves", &e.leaves, BATCH_LEAVES)?;
    for (i, s) in e.leaves.iter().enumerate() {
        ck.sha256("leaves.request", &s.request)?;
        ck.hash("leaves.runner", &s.runner, HashKind::Agent)?;
        ck.line("leaves.model", &s.model, MODEL_NAME)?;
        ck.sha256("leaves.output_hash", &s.output_hash)?;
        ck.prose("leaves.reason", &s.reason, REASON)?;
        if let Some(p) = &s.proof {
            proof_fields(&ck, p).map_err(|o| of_leaf(o, i))?;
        }
        ck.rule("proof_required", !s.accepted || s.proof.is_some(), || {
            format!("request {} is accepted without the runner's proof", s.request)
        })?;
        ck.rule("reason_required", s.accepted || !s.reason.is_empty(), || {
            format!("request {} is not accepted and does not say why", s.request)
        })?;
    }
    let sums = e.leaves.iter().map(|s| s.proof.as_ref().map_or((0, 0), |p| (p.leaf.tokens_in, p.leaf.tokens_out)));
    counts_and_sums(&ck, &e.totals, e.leaves.len(), sums)?;
    let accepted = e.leaves.iter().filter(|s| s.accepted).count() as u64;
    ck.rule("accepted_mismatch", e.accepted == accepted, || {
        format!("accepted is {}, {accepted} of the leaves are accepted", e.accepted)
    })?;
    root(&ck, &e.root, served_root(&e.leaves))?;

    // Every runner batch cited, in one round.
    let batches: Vec<&str> = e.leaves.iter().filter_map(|s| s.proof.as_ref()).map(|p| p.batch.as_str()).collect();
    input.need(&batches)?;
    for (i, s) in e.leaves.iter().enumerate() {
        if let Some(p) = &s.proof {
            against_batch(&ck, input, s, p).map_err(|o| of_leaf(o, i))?;
        }
    }
    Ok(())
}

pub fn served_batch(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("served_batch");
    ck.rights(input, Change::Never, Change::Never)?;
    not_worker(&ck, input)?;
    let b: ServedBatch = ck.parse(input.entry.as_deref())?;
    ck.digest("root", &b.root)?;
    ck.hash("leaves", &b.leaves, HashKind::Entry)?;
    totals(&ck, &b.totals)?;
    ck.int("accepted", b.accepted, BATCH_ACCEPTED)?;
    ck.rule("accepted_exceeds_count", b.accepted <= b.totals.count, || {
        format!("accepted {} is above the count {}", b.accepted, b.totals.count)
    })?;
    window(&ck, b.opened_at, b.closed_at)
}

/// A served leaf's proof against the runner's batch it cites: a refusal here is of what the runner gave.
fn against_batch(ck: &Ck, input: &ValidationInput, s: &ServedLeaf, p: &LeafProof) -> Verdict {
    let (batch_record, batch): (_, AnswerBatch) = input.dep_as(&p.batch, "AnswerBatch", "served_leaves.batch_type")?;
    ck.rule("runner_is_batch_author", batch_record.author == s.runner, || {
        format!("the batch {} was written by {}, not the runner {}", p.batch, batch_record.author, s.runner)
    })?;
    ck.rule("proof_count_mismatch", p.count == batch.totals.count, || {
        format!("the proof of request {} counts {} leaves, its batch {}", s.request, p.count, batch.totals.count)
    })?;
    ck.rule("leaf_request_mismatch", p.leaf.request == s.request && p.leaf.requester == input.author, || {
        format!(
            "the runner's leaf is request {} asked by {}, not request {} asked by {}",
            p.leaf.request, p.leaf.requester, s.request, input.author
        )
    })?;
    ck.rule("leaf_model_mismatch", p.leaf.model == s.model, || {
        format!("the runner's leaf of request {} is on {}, not {}", s.request, p.leaf.model, s.model)
    })?;
    let proven = merkle::verify(&answer_leaf_bytes(&p.leaf), p.index, p.count, &p.path, &batch.root);
    ck.rule("proof_invalid", proven, || {
        format!("the path of request {} does not prove its leaf against the root of batch {}", s.request, p.batch)
    })?;
    ck.rule("answer_status_mismatch", !s.accepted || p.leaf.status == LeafStatus::Ok, || {
        format!("request {} is accepted, but the runner signed an error", s.request)
    })?;
    ck.rule("output_mismatch", !s.accepted || p.leaf.output_hash == s.output_hash, || {
        format!(
            "the runner signed output {}, the requester served {}: record it not accepted",
            p.leaf.output_hash, s.output_hash
        )
    })?;
    Ok(())
}

/// The fields of a runner's proof, as the requester received them.
fn proof_fields(ck: &Ck, p: &LeafProof) -> Verdict {
    ck.hash("leaves.proof.batch", &p.batch, HashKind::Action)?;
    answer_leaf(ck, "leaves.proof.leaf", &p.leaf)?;
    ck.int("leaves.proof.index", p.index, PROOF_INDEX)?;
    ck.int("leaves.proof.count", p.count, BATCH_LEAVES)?;
    ck.count("leaves.proof.path", &p.path, BATCH_PROOF)?;
    for digest in &p.path {
        ck.digest("leaves.proof.path", digest)?;
    }
    Ok(())
}

/// `accepted`: 0 up to the most leaves a batch holds.
const BATCH_ACCEPTED: Range = Range { min: 0, max: BATCH_LEAVES.max };

fn not_worker(ck: &Ck, input: &ValidationInput) -> Verdict {
    ck.rule("author_role", author_role(ck, input)? != Some(Role::Worker), || {
        "the author joined as a worker: workers run requests but do not send them".into()
    })
}

fn answer_leaf(ck: &Ck, at: &str, l: &AnswerLeaf) -> Verdict {
    ck.sha256(&format!("{at}.request"), &l.request)?;
    ck.hash(&format!("{at}.requester"), &l.requester, HashKind::Agent)?;
    ck.line(&format!("{at}.model"), &l.model, MODEL_NAME)?;
    if let Some(hash) = &l.model_file_hash {
        ck.sha256(&format!("{at}.model_file_hash"), hash)?;
    }
    ck.sha256(&format!("{at}.output_hash"), &l.output_hash)?;
    ck.int(&format!("{at}.tokens_in"), l.tokens_in, RESULT_TOKENS)?;
    ck.int(&format!("{at}.tokens_out"), l.tokens_out, RESULT_TOKENS)?;
    ck.int(&format!("{at}.started_at"), l.started_at, TIMESTAMP)?;
    ck.int(&format!("{at}.finished_at"), l.finished_at, TIMESTAMP)?;
    ck.rule("leaf_order", l.finished_at >= l.started_at, || {
        format!("{at}.finished_at must not be before {at}.started_at")
    })
}

fn totals(ck: &Ck, t: &BatchTotals) -> Verdict {
    ck.int("totals.count", t.count, BATCH_LEAVES)?;
    ck.int("totals.tokens_in", t.tokens_in, RESULT_TOKENS)?;
    ck.int("totals.tokens_out", t.tokens_out, RESULT_TOKENS)
}

fn window(ck: &Ck, opened_at: u64, closed_at: u64) -> Verdict {
    ck.int("opened_at", opened_at, TIMESTAMP)?;
    ck.int("closed_at", closed_at, TIMESTAMP)?;
    ck.rule("window_order", closed_at >= opened_at, || "closed_at must not be before opened_at".into())
}

/// The totals are the leaves': their number and the sums of their tokens (in, out).
fn counts_and_sums(ck: &Ck, t: &BatchTotals, count: usize, tokens: impl Iterator<Item = (u64, u64)>) -> Verdict {
    ck.rule("count_mismatch", t.count == count as u64, || format!("totals.count is {}, there are {count} leaves", t.count))?;
    let (tokens_in, tokens_out) = tokens.fold((0u64, 0u64), |(i, o), (ti, to)| (i.saturating_add(ti), o.saturating_add(to)));
    ck.rule("totals_mismatch", t.tokens_in == tokens_in && t.tokens_out == tokens_out, || {
        format!(
            "totals say {} tokens in and {} out, the leaves {tokens_in} and {tokens_out}",
            t.tokens_in, t.tokens_out
        )
    })
}

fn root(ck: &Ck, root: &str, computed: Option<Digest>) -> Verdict {
    let computed = computed.map(|d| merkle::to_hex(&d)).unwrap_or_default();
    ck.rule("root_mismatch", root == computed, || format!("root is {root}, the leaves' Merkle root is {computed}"))
}
