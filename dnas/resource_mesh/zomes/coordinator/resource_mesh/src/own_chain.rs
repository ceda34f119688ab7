//! This agent's own chain, private entries included: its records of one type, newest first, and a leaves
//! entry of a batch read back, with the batch that cites it.
use coordinator_support::*;
use hdk::prelude::*;
use resource_mesh_integrity::UnitEntryTypes;
use serde_json::Value;

/// This agent's records of one entry type, newest first, with their entries (private ones included).
pub(crate) fn own_records(unit: UnitEntryTypes) -> ExternResult<Vec<Record>> {
    let filter = ChainQueryFilter::new().entry_type(unit.try_into()?).include_entries(true);
    let mut records = query(filter)?;
    records.reverse();
    Ok(records)
}

/// A leaves entry of this chain decoded as `T`, with its entry hash; None when it does not read as one.
pub(crate) fn own_leaves<T: serde::de::DeserializeOwned>(record: &Record) -> Option<(String, Value, T)> {
    let entry_hash = b64(record.action().entry_hash()?);
    let entry = to_entry_record(record).ok()?.entry;
    let leaves = serde_json::from_value(entry.clone()).ok()?;
    Some((entry_hash, entry, leaves))
}

/// The batch among `records` that cites the leaves entry `leaves_hash`.
pub(crate) fn batch_citing(records: &[Record], leaves_hash: &str) -> ExternResult<Option<EntryRecord>> {
    for record in records {
        let batch = to_entry_record(record)?;
        if batch.str_field("leaves") == Some(leaves_hash) {
            return Ok(Some(batch));
        }
    }
    Ok(None)
}
