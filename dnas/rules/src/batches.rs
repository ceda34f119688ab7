//! The batch entries of `zomes-bindings/resource_mesh_batches.ts` (AnswerLeaves, AnswerBatch, ServedLeaves,
//! ServedBatch) and the leaf bytes their Merkle trees are built over (`answerLeafBytes`,
//! `servedLeafBytes`). Public, so the coordinator zome computes roots and proofs as the rules check them.
use serde::{Deserialize, Serialize};

use crate::check::nullable;
use crate::merkle::{self, Digest};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LeafStatus {
    Ok,
    Error,
}

impl LeafStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LeafStatus::Ok => "ok",
            LeafStatus::Error => "error",
        }
    }
}

/// One answer as its runner signs it into a batch.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnswerLeaf {
    pub request: String,
    pub requester: String,
    pub model: String,
    #[serde(deserialize_with = "nullable")]
    pub model_file_hash: Option<String>,
    pub status: LeafStatus,
    pub output_hash: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub started_at: u64,
    pub finished_at: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BatchTotals {
    pub count: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// Entry type `AnswerLeaves` (private).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnswerLeaves {
    pub root: String,
    pub totals: BatchTotals,
    pub leaves: Vec<AnswerLeaf>,
}

/// Entry type `AnswerBatch` (public).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnswerBatch {
    pub root: String,
    pub leaves: String,
    pub totals: BatchTotals,
    pub opened_at: u64,
    pub closed_at: u64,
}

/// A leaf and its audit path against the runner's `AnswerBatch` (`batch`, an action hash).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LeafProof {
    pub batch: String,
    pub leaf: AnswerLeaf,
    pub index: u64,
    pub count: u64,
    pub path: Vec<String>,
}

/// One request as its requester records it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServedLeaf {
    pub request: String,
    pub runner: String,
    pub model: String,
    #[serde(deserialize_with = "nullable")]
    pub proof: Option<LeafProof>,
    pub output_hash: String,
    pub accepted: bool,
    pub reason: String,
}

/// Entry type `ServedLeaves` (private).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServedLeaves {
    pub root: String,
    pub totals: BatchTotals,
    pub accepted: u64,
    pub leaves: Vec<ServedLeaf>,
}

/// Entry type `ServedBatch` (public).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServedBatch {
    pub root: String,
    pub leaves: String,
    pub totals: BatchTotals,
    pub accepted: u64,
    pub opened_at: u64,
    pub closed_at: u64,
}

/// The leaf bytes hashed into a runner's tree: `answerLeafBytes` (newline-separated; no field holds a
/// newline once the rules have checked it).
pub fn answer_leaf_bytes(l: &AnswerLeaf) -> Vec<u8> {
    [
        "ripple-answer-leaf/1",
        &l.request,
        &l.requester,
        &l.model,
        l.model_file_hash.as_deref().unwrap_or(""),
        l.status.as_str(),
        &l.output_hash,
        &l.tokens_in.to_string(),
        &l.tokens_out.to_string(),
        &l.started_at.to_string(),
        &l.finished_at.to_string(),
    ]
    .join("\n")
    .into_bytes()
}

/// The leaf bytes hashed into a requester's tree: `servedLeafBytes`.
pub fn served_leaf_bytes(s: &ServedLeaf) -> Vec<u8> {
    let proof = s.proof.as_ref();
    [
        "ripple-served-leaf/1",
        &s.request,
        &s.runner,
        &s.model,
        proof.map_or("", |p| p.batch.as_str()),
        &s.output_hash,
        if s.accepted { "1" } else { "0" },
        &proof.map_or(0, |p| p.leaf.tokens_in).to_string(),
        &proof.map_or(0, |p| p.leaf.tokens_out).to_string(),
    ]
    .join("\n")
    .into_bytes()
}

/// The root of a runner's leaves (None for none).
pub fn answer_root(leaves: &[AnswerLeaf]) -> Option<Digest> {
    merkle::root(&leaves.iter().map(answer_leaf_bytes).collect::<Vec<_>>())
}

/// The root of a requester's leaves (None for none).
pub fn served_root(leaves: &[ServedLeaf]) -> Option<Digest> {
    merkle::root(&leaves.iter().map(served_leaf_bytes).collect::<Vec<_>>())
}

/// The proof of the runner's leaf at `index` against its `AnswerBatch` at `batch` (None when out of range).
pub fn answer_proof(batch: &str, leaves: &[AnswerLeaf], index: usize) -> Option<LeafProof> {
    let bytes: Vec<Vec<u8>> = leaves.iter().map(answer_leaf_bytes).collect();
    let path = merkle::path(&bytes, index)?;
    Some(LeafProof {
        batch: batch.to_string(),
        leaf: leaves[index].clone(),
        index: index as u64,
        count: leaves.len() as u64,
        path: path.iter().map(merkle::to_hex).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(request: &str, tokens_in: u64) -> AnswerLeaf {
        AnswerLeaf {
            request: request.repeat(64),
            requester: "uhCAkrequester".into(),
            model: "qwen2.5-7b-instruct".into(),
            model_file_hash: None,
            status: LeafStatus::Ok,
            output_hash: "b".repeat(64),
            tokens_in,
            tokens_out: 7,
            started_at: 1_763_700_000_000_000,
            finished_at: 1_763_700_002_500_000,
        }
    }

    #[test]
    fn answer_leaf_bytes_spell_every_field() {
        let text = String::from_utf8(answer_leaf_bytes(&leaf("a", 12))).unwrap();
        let want = format!(
            "ripple-answer-leaf/1\n{}\nuhCAkrequester\nqwen2.5-7b-instruct\n\nok\n{}\n12\n7\n1763700000000000\n1763700002500000",
            "a".repeat(64),
            "b".repeat(64)
        );
        assert_eq!(text, want);
    }

    #[test]
    fn every_proof_verifies_against_the_root() {
        let leaves: Vec<AnswerLeaf> = ["a", "b", "c", "d", "e"].iter().map(|r| leaf(r, 3)).collect();
        let root = merkle::to_hex(&answer_root(&leaves).unwrap());
        for i in 0..leaves.len() {
            let p = answer_proof("uhCkkbatch", &leaves, i).unwrap();
            assert!(merkle::verify(&answer_leaf_bytes(&p.leaf), p.index, p.count, &p.path, &root));
        }
        assert_eq!(answer_proof("uhCkkbatch", &leaves, 5), None);
    }

    #[test]
    fn served_leaf_bytes_without_a_proof() {
        let s = ServedLeaf {
            request: "a".repeat(64),
            runner: "uhCAkrunner".into(),
            model: "m".into(),
            proof: None,
            output_hash: "c".repeat(64),
            accepted: false,
            reason: "no proof came".into(),
        };
        let want = format!("ripple-served-leaf/1\n{}\nuhCAkrunner\nm\n\n{}\n0\n0\n0", "a".repeat(64), "c".repeat(64));
        assert_eq!(String::from_utf8(served_leaf_bytes(&s)).unwrap(), want);
    }
}
