//! memory_shards: Collection, ShardHolder, ShardSnapshot.
//!
//! Nothing here is updated; authors may delete what they wrote (a holder leaving its shard, say).
//! Shard indexes are checked against the Collection they name.
use serde::Deserialize;

use crate::check::{Change, Ck, HashKind, Rules};
use crate::input::{Op, ValidationInput, Verdict};
use crate::limits::*;

pub fn rules(entry_type: &str) -> Option<Rules> {
    match entry_type {
        "Collection" => Some(collection),
        "ShardHolder" => Some(shard_holder),
        "ShardSnapshot" => Some(shard_snapshot),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Metric {
    Cosine,
    L2,
    Ip,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Collection {
    name: String,
    dimension: u64,
    #[allow(dead_code)] // its shape is the rule: one of the three metrics
    metric: Metric,
    shard_count: u64,
    replication: u64,
    embedding_model: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardHolder {
    collection: String,
    shard: u64,
    holder: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardSnapshot {
    collection: String,
    shard: u64,
    cid: String,
    doc_count: u64,
    taken_at: u64,
}

fn collection(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("collection");
    ck.rights(input, Change::Never, Change::OriginalAuthor)?;
    if input.op == Op::Delete {
        return Ok(());
    }
    let c: Collection = ck.parse(input.entry.as_deref())?;
    ck.slug("name", &c.name, COLLECTION_NAME)?;
    ck.int("dimension", c.dimension, COLLECTION_DIMENSION)?;
    ck.int("shard_count", c.shard_count, COLLECTION_SHARD_COUNT)?;
    ck.int("replication", c.replication, COLLECTION_REPLICATION)?;
    ck.line("embedding_model", &c.embedding_model, MODEL_NAME)
}

/// `shard` is below the shard_count of the Collection at `collection` (which must be resolved).
fn shard_in_collection(ck: &Ck, input: &ValidationInput, collection: &str, shard: u64) -> Verdict {
    input.need(&[collection])?;
    let (_, c): (_, Collection) = input.dep_as(collection, "Collection", &format!("{}.collection_type", ck.entry))?;
    ck.rule("shard_out_of_range", shard < c.shard_count, || {
        format!("shard {shard} is not below the collection's shard_count {}", c.shard_count)
    })
}

fn shard_holder(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("shard_holder");
    ck.rights(input, Change::Never, Change::OriginalAuthor)?;
    if input.op == Op::Delete {
        return Ok(());
    }
    let h: ShardHolder = ck.parse(input.entry.as_deref())?;
    ck.hash("collection", &h.collection, HashKind::Action)?;
    ck.int("shard", h.shard, COLLECTION_SHARD_INDEX)?;
    ck.hash("holder", &h.holder, HashKind::Agent)?;
    ck.rule("holder_is_author", h.holder == input.author, || "holder must be the entry's author".into())?;
    shard_in_collection(&ck, input, &h.collection, h.shard)
}

fn shard_snapshot(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("shard_snapshot");
    ck.rights(input, Change::Never, Change::OriginalAuthor)?;
    if input.op == Op::Delete {
        return Ok(());
    }
    let s: ShardSnapshot = ck.parse(input.entry.as_deref())?;
    ck.hash("collection", &s.collection, HashKind::Action)?;
    ck.int("shard", s.shard, COLLECTION_SHARD_INDEX)?;
    ck.cid("cid", &s.cid)?;
    ck.int("doc_count", s.doc_count, SHARD_SNAPSHOT_DOC_COUNT)?;
    ck.int("taken_at", s.taken_at, TIMESTAMP)?;
    shard_in_collection(&ck, input, &s.collection, s.shard)
}
