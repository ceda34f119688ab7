//! memory_shards coordinator: the contract's functions (zomes-bindings/memory_shards.ts): collections
//! linked from an all-collections anchor, shard holders from their collection, snapshots from
//! (collection, shard).
use coordinator_support::*;
// Ours (one name), not the hdk prelude's `anchor` (type, text), which the glob imports would make ambiguous.
use coordinator_support::anchor;
use hdk::prelude::*;
use memory_shards_integrity::{entry_index, Collection, EntryTypes, LinkTypes, ShardHolder, ShardSnapshot, UnitEntryTypes};
use serde::Deserialize;
use serde_json::Value;

const ALL_COLLECTIONS: &str = "all_collections";

fn shard_anchor(collection: &str, shard: i64) -> ExternResult<EntryHash> {
    anchor(&format!("shard:{collection}:{shard}"))
}

#[hdk_extern]
pub fn init(_: ()) -> ExternResult<InitCallbackResult> {
    grant_remote_signals()
}

#[hdk_extern]
pub fn create_collection(collection: Value) -> ExternResult<RecordRef> {
    let hash = create_entry(&EntryTypes::Collection(Collection(collection)))?;
    create_link(anchor(ALL_COLLECTIONS)?, hash.clone(), LinkTypes::AllCollections, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

#[hdk_extern]
pub fn list_collections(_: ()) -> ExternResult<Vec<EntryRecord>> {
    linked_records(anchor(ALL_COLLECTIONS)?, LinkTypes::AllCollections, entry_index(UnitEntryTypes::Collection), &Standing::held()?)
}

#[hdk_extern]
pub fn announce_shard_holder(holder: Value) -> ExternResult<RecordRef> {
    let collection = action_hash(holder["collection"].as_str().unwrap_or_default())?;
    let hash = create_entry(&EntryTypes::ShardHolder(ShardHolder(holder)))?;
    create_link(collection, hash.clone(), LinkTypes::CollectionToHolders, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

/// By the collection's action hash; only holders that announced themselves.
#[hdk_extern]
pub fn list_shard_holders(collection: String) -> ExternResult<Vec<EntryRecord>> {
    let holder_index = entry_index(UnitEntryTypes::ShardHolder);
    Ok(linked_records(action_hash(&collection)?, LinkTypes::CollectionToHolders, holder_index, &Standing::held()?)?
        .into_iter()
        .filter(|h| h.str_field("collection") == Some(collection.as_str()) && h.str_field("holder") == Some(h.author.as_str()))
        .collect())
}

#[hdk_extern]
pub fn publish_snapshot(snapshot: Value) -> ExternResult<RecordRef> {
    let collection = snapshot["collection"].as_str().unwrap_or_default().to_string();
    let shard = snapshot["shard"].as_i64().unwrap_or(0);
    let hash = create_entry(&EntryTypes::ShardSnapshot(ShardSnapshot(snapshot)))?;
    create_link(shard_anchor(&collection, shard)?, hash.clone(), LinkTypes::ShardToSnapshots, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

#[derive(Deserialize, Debug)]
pub struct LatestSnapshot {
    pub collection: String,
    pub shard: i64,
}

/// The snapshot taken last (by `taken_at`, then by when it was written).
#[hdk_extern]
pub fn get_latest_snapshot(input: LatestSnapshot) -> ExternResult<Option<EntryRecord>> {
    let snapshots = linked_records(
        shard_anchor(&input.collection, input.shard)?,
        LinkTypes::ShardToSnapshots,
        entry_index(UnitEntryTypes::ShardSnapshot),
        &Standing::held()?,
    )?;
    Ok(snapshots
        .into_iter()
        .filter(|s| s.str_field("collection") == Some(input.collection.as_str()) && s.entry["shard"].as_i64() == Some(input.shard))
        .max_by_key(|s| (s.entry["taken_at"].as_i64().unwrap_or(0), s.timestamp)))
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
