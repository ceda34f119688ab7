//! Revocations as reads enforce them on a real conductor (issue 60). The embedded conductor refuses a
//! revoked agent's ops at ingest (host/conductor/embedded/replication/revocations.ts); Holochain cannot:
//! an op's validation may only depend on what the op references, and a revocation written later is not
//! among those (0.6.0's conductor has no agent blocking a zome or the admin API may use: hdk's
//! `block_agent` is behind `unstable-functions`). So every read of another agent's records asks the
//! revocations held, and leaves out what a revoked agent authored from its revocation on: its later
//! creates, updates and deletes. What it wrote before stays.
use std::collections::BTreeMap;

use hdk::prelude::*;

use crate::{agent_registry_records, EntryRecord};

/// Who is revoked, as this agent holds it.
#[derive(Default)]
pub struct Standing {
    /// Agent (HoloHashB64) -> from when (µs) what it authors is left out: its earliest revocation.
    revoked: BTreeMap<String, i64>,
}

impl Standing {
    /// Nothing against anyone: for reading the revocations themselves, and an agent's own records.
    pub fn none() -> Self {
        Self::default()
    }

    /// From agent_registry's Revocation records (`list_revocations`), which the rules admit from admins
    /// only. One naming an invite (`invite_id`) bars a genesis, not an author's later ops: not here.
    pub fn from_revocations(records: &[EntryRecord]) -> Self {
        let mut revoked: BTreeMap<String, i64> = BTreeMap::new();
        for record in records {
            let Some(agent) = record.str_field("agent") else { continue };
            let since = revoked.entry(agent.to_string()).or_insert(record.timestamp);
            *since = (*since).min(record.timestamp);
        }
        Self { revoked }
    }

    /// The revocations held, asked of agent_registry's cell.
    pub fn held() -> ExternResult<Self> {
        Ok(Self::from_revocations(&agent_registry_records("list_revocations")?))
    }

    /// False for what `author` (HoloHashB64) wrote at `timestamp` (µs) once revoked.
    pub fn admits(&self, author: &str, timestamp: i64) -> bool {
        self.revoked.get(author).is_none_or(|since| timestamp < *since)
    }

    /// Whether a record's action counts (see `admits`).
    pub fn admits_action(&self, action: &Action) -> bool {
        self.admits(&crate::b64(action.author()), action.timestamp().as_micros())
    }
}
