//! The JSON the host hands the rules (`ValidationInput`) and the answer they give (`ValidationOutcome`),
//! as in `host/conductor/embedded/validation/validator.ts`.
use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{value::RawValue, Map, Value};

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Create,
    Update,
    Delete,
}

/// A record the rules depend on, resolved by the host.
#[derive(Deserialize, Debug)]
pub struct Dep {
    pub action_hash: String,
    pub author: String,
    pub entry_type: String,
    /// Entries stay raw JSON until a rule decodes them into their type (no intermediate `Value` tree).
    #[serde(default)]
    pub entry: Option<Box<RawValue>>,
    #[serde(default)]
    pub original_action_hash: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct ValidationInput {
    pub dna: String,
    pub entry_type: String,
    pub op: Op,
    pub author: String,
    #[serde(default)]
    pub entry: Option<Box<RawValue>>,
    #[serde(default)]
    pub original: Option<Dep>,
    #[serde(default)]
    pub properties: Map<String, Value>,
    #[serde(default)]
    pub deps: BTreeMap<String, Dep>,
    /// On a network that requires invites: the membrane proof of the author's genesis (already checked
    /// when the genesis was stored), so rules can judge by the role it grants; null when it carried none.
    #[serde(default)]
    pub author_proof: Option<Box<RawValue>>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    Valid,
    Invalid {
        rule: String,
        message: String,
        /// The leaf of a requester's `ServedLeaves` whose runner's proof (what the runner signed and sent) the
        /// rule refused, by its index in `leaves`: that leaf alone can go on record without the proof. Absent
        /// for every other refusal, so hosts that do not read it see the outcome they always saw.
        #[serde(skip_serializing_if = "Option::is_none")]
        leaf: Option<u64>,
    },
    Unresolved { deps: Vec<String> },
}

pub fn invalid(rule: impl Into<String>, message: impl Into<String>) -> Outcome {
    Outcome::Invalid { rule: rule.into(), message: message.into(), leaf: None }
}

/// The refusal `outcome`, said to be of the runner's proof of leaf `index` (unresolved outcomes pass as they are).
pub fn of_leaf(outcome: Outcome, index: usize) -> Outcome {
    match outcome {
        Outcome::Invalid { rule, message, .. } => Outcome::Invalid { rule, message, leaf: Some(index as u64) },
        other => other,
    }
}

/// A rule's verdict so far: `Err` carries the first invalid or unresolved outcome.
pub type Verdict = Result<(), Outcome>;

impl ValidationInput {
    /// The record an update or delete targets (its presence is checked before any entry rule runs).
    pub fn original(&self) -> &Dep {
        self.original.as_ref().expect("original checked in lib::run")
    }

    /// `Unresolved` with every hash of `hashes` missing from `deps`, so the host fetches them in one round.
    pub fn need(&self, hashes: &[&str]) -> Verdict {
        let mut missing: Vec<String> = Vec::new();
        for hash in hashes {
            if !self.deps.contains_key(*hash) && !missing.iter().any(|m| m == hash) {
                missing.push((*hash).to_string());
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Outcome::Unresolved { deps: missing })
        }
    }

    /// A resolved dependency (after `need`), decoded as `entry_type`; `rule` fails when it is another type.
    pub fn dep_as<T: DeserializeOwned>(&self, hash: &str, entry_type: &str, rule: &str) -> Result<(&Dep, T), Outcome> {
        let dep = self.deps.get(hash).ok_or_else(|| Outcome::Unresolved { deps: vec![hash.to_string()] })?;
        if dep.entry_type != entry_type {
            return Err(invalid(rule, format!("{hash} must be a {entry_type}, got a {}", dep.entry_type)));
        }
        let entry = decode(dep.entry.as_deref()).map_err(|e| invalid(rule, format!("{hash} is not a readable {entry_type}: {e}")))?;
        Ok((dep, entry))
    }
}

/// Decodes a raw entry (absent or null entries are an error: only deletes carry none).
pub fn decode<T: DeserializeOwned>(entry: Option<&RawValue>) -> Result<T, String> {
    let raw = entry.ok_or("the entry is missing")?;
    serde_json::from_slice(raw.get().as_bytes()).map_err(|e| e.to_string())
}
