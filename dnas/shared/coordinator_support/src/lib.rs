//! Helpers every Ripple coordinator zome uses, so each zome reads like its TypeScript twin in
//! `host/conductor/embedded/zomes/`: hashes cross the contract as HoloHashB64 strings, writes answer a
//! `RecordRef`, reads an `EntryRecord` (action hash, author, timestamp, entry), and ephemeral signals go
//! to every peer (or to one) with `send_remote_signal` and come back to the host as a `SignalEnvelope`.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hdk::prelude::*;
use serde_json::Value;

mod standing;

pub use standing::Standing;

pub fn guest_error(message: impl Into<String>) -> WasmError {
    wasm_error!(WasmErrorInner::Guest(message.into()))
}

pub fn b64<P: PrimitiveHashType>(hash: &HoloHash<P>) -> String {
    format!("u{}", URL_SAFE_NO_PAD.encode(hash.get_raw_39()))
}

fn raw_39(text: &str) -> ExternResult<Vec<u8>> {
    text.strip_prefix('u')
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
        .ok_or_else(|| guest_error(format!("not a HoloHashB64: {text}")))
}

pub fn action_hash(text: &str) -> ExternResult<ActionHash> {
    ActionHash::try_from_raw_39(raw_39(text)?).map_err(|e| guest_error(e.to_string()))
}

pub fn agent_key(text: &str) -> ExternResult<AgentPubKey> {
    AgentPubKey::try_from_raw_39(raw_39(text)?).map_err(|e| guest_error(e.to_string()))
}

/// The entry hash of a named anchor path (links hang off it; the path entry itself need not exist).
pub fn anchor(name: &str) -> ExternResult<EntryHash> {
    Path::from(name).path_entry_hash()
}

/// What a zome function that writes one entry returns.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RecordRef {
    pub action_hash: String,
    pub entry_hash: String,
}

/// A record as zome functions return it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct EntryRecord {
    pub action_hash: String,
    pub author: String,
    /// µs since the epoch.
    pub timestamp: i64,
    pub entry: Value,
}

impl EntryRecord {
    /// A field of the entry as a string (for filters such as "the task this claim is about").
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.entry.get(key).and_then(Value::as_str)
    }
}

pub fn record_ref(action_hash: &ActionHash) -> ExternResult<RecordRef> {
    let record = get(action_hash.clone(), GetOptions::local())?
        .ok_or_else(|| guest_error("the record just written is not readable"))?;
    let entry_hash = record
        .action()
        .entry_hash()
        .ok_or_else(|| guest_error("a RecordRef needs a Create or Update record"))?;
    Ok(RecordRef { action_hash: b64(action_hash), entry_hash: b64(entry_hash) })
}

/// The newest live version of a record (following updates, earliest update first on a tie), or None
/// when it is unknown, refused by validation or deleted; updates that validation refused or `standing`
/// leaves out do not count, nor do deletes it leaves out.
pub fn get_latest(hash: ActionHash, standing: &Standing) -> ExternResult<Option<Record>> {
    let Some(mut details) = valid_details(hash)? else { return Ok(None) };
    loop {
        if details.deletes.iter().any(|d| standing.admits_action(d.action())) {
            return Ok(None);
        }
        let mut updates: Vec<&SignedActionHashed> =
            details.updates.iter().filter(|u| standing.admits_action(u.action())).collect();
        updates.sort_by_key(|u| (u.action().timestamp(), u.action_address().clone()));
        let mut next = None;
        for update in updates {
            next = valid_details(update.action_address().clone())?;
            if next.is_some() {
                break;
            }
        }
        match next {
            Some(newer) => details = newer,
            None => return Ok(Some(details.record)),
        }
    }
}

/// A record's details, when validation found it valid: an authority that refused a record still holds
/// it, and answers `get_details` with it and its status (a refused record is nobody's to read).
fn valid_details(hash: ActionHash) -> ExternResult<Option<RecordDetails>> {
    match get_details(hash, GetOptions::network())? {
        Some(Details::Record(details)) if details.validation_status == ValidationStatus::Valid => Ok(Some(details)),
        _ => Ok(None),
    }
}

pub fn to_entry_record(record: &Record) -> ExternResult<EntryRecord> {
    let entry = match record.entry().as_option() {
        Some(Entry::App(AppEntryBytes(bytes))) => {
            holochain_serialized_bytes::decode::<_, Value>(bytes.bytes())
                .map_err(|e| wasm_error!(WasmErrorInner::Serialize(e)))?
        }
        _ => return Err(guest_error("not an app entry record")),
    };
    Ok(EntryRecord {
        action_hash: b64(record.action_address()),
        author: b64(record.action().author()),
        timestamp: record.action().timestamp().as_micros(),
        entry,
    })
}

/// The latest live record at `hash` if it is an app entry of type `entry_index` that `standing` admits.
pub fn live_entry_record(hash: ActionHash, entry_index: u8, standing: &Standing) -> ExternResult<Option<EntryRecord>> {
    let Some(record) = get_latest(hash, standing)? else { return Ok(None) };
    if !standing.admits_action(record.action()) {
        return Ok(None);
    }
    match record.action().entry_type() {
        Some(EntryType::App(def)) if def.entry_index.0 == entry_index => Ok(Some(to_entry_record(&record)?)),
        _ => Ok(None),
    }
}

/// Live records of one entry type linked from `base` that `standing` admits, once each, oldest first.
pub fn linked_records(
    base: impl Into<AnyLinkableHash>,
    link_type: impl LinkTypeFilterExt,
    entry_index: u8,
    standing: &Standing,
) -> ExternResult<Vec<EntryRecord>> {
    records_of(LinkQuery::new(base, link_type.try_into_filter()?), entry_index, standing)
}

/// Like `linked_records`, through the links whose tag starts with `prefix` only.
pub fn linked_records_tagged(
    base: impl Into<AnyLinkableHash>,
    link_type: impl LinkTypeFilterExt,
    prefix: Vec<u8>,
    entry_index: u8,
    standing: &Standing,
) -> ExternResult<Vec<EntryRecord>> {
    let query = LinkQuery::new(base, link_type.try_into_filter()?).tag_prefix(LinkTag::new(prefix));
    records_of(query, entry_index, standing)
}

fn records_of(query: LinkQuery, entry_index: u8, standing: &Standing) -> ExternResult<Vec<EntryRecord>> {
    let mut seen = BTreeSet::new();
    let mut records = Vec::new();
    for link in get_links(query, GetStrategy::Network)? {
        let Some(target) = link.target.into_action_hash() else { continue };
        if let Some(record) = live_entry_record(target, entry_index, standing)? {
            if seen.insert(record.action_hash.clone()) {
                records.push(record);
            }
        }
    }
    records.sort_by_key(|r| r.timestamp);
    Ok(records)
}

/// Makes `recv_remote_signal` callable by any peer (Holochain checks a grant for remote calls too).
pub fn grant_remote_signals() -> ExternResult<InitCallbackResult> {
    let mut functions = HashSet::new();
    functions.insert((zome_info()?.name, FunctionName::from("recv_remote_signal")));
    create_cap_grant(CapGrantEntry {
        tag: "remote_signals".into(),
        access: CapAccess::Unrestricted,
        functions: GrantedFunctions::Listed(functions),
    })?;
    Ok(InitCallbackResult::Pass)
}

/// What `recv_remote_signal` emits to the host: who sent it and what (zomes-bindings/signals.ts).
#[derive(Serialize, Deserialize, Debug)]
pub struct SignalEnvelope {
    pub from: String,
    pub payload: Value,
}

/// The records an agent_registry list function answers (`list_nodes`, `list_revocations`), asked of
/// that DNA's cell: any DNA's coordinator may call it.
pub fn agent_registry_records(function: &str) -> ExternResult<Vec<EntryRecord>> {
    let response = call(
        CallTargetCell::OtherRole("agent_registry".into()),
        ZomeName::from("agent_registry"),
        FunctionName::from(function),
        None,
        (),
    )?;
    match response {
        ZomeCallResponse::Ok(io) => io.decode().map_err(|e| wasm_error!(WasmErrorInner::Serialize(e))),
        other => Err(guest_error(format!("agent_registry.{function} failed: {other:?}"))),
    }
}

/// Every agent that advertised a capability (agent_registry's `list_nodes`), asked across cells so
/// each DNA can reach the whole mesh.
pub fn mesh_agents() -> ExternResult<Vec<AgentPubKey>> {
    let nodes = agent_registry_records("list_nodes")?;
    let mut agents = BTreeMap::new();
    for node in nodes {
        agents.insert(node.author.clone(), agent_key(&node.author)?);
    }
    Ok(agents.into_values().collect())
}

/// Sends a payload to every peer of the mesh and to this agent itself (as the embedded transport does).
pub fn broadcast(payload: Value) -> ExternResult<()> {
    let me = agent_info()?.agent_initial_pubkey;
    let others: Vec<AgentPubKey> = mesh_agents()?.into_iter().filter(|a| *a != me).collect();
    emit_signal(SignalEnvelope { from: b64(&me), payload: payload.clone() })?;
    if !others.is_empty() {
        send_remote_signal(payload, others)?;
    }
    Ok(())
}

/// What `send_signal` takes (zomes-bindings/signals.ts `SendSignalInput`).
#[derive(Serialize, Deserialize, Debug)]
pub struct SendSignalInput {
    pub to: String,
    pub payload: Value,
}

/// Sends a payload to one agent (e.g. a task's tokens to its requester); to this agent itself, emits it.
pub fn send_to(input: SendSignalInput) -> ExternResult<()> {
    let me = agent_info()?.agent_initial_pubkey;
    let to = agent_key(&input.to)?;
    if to == me {
        return emit_signal(SignalEnvelope { from: b64(&me), payload: input.payload });
    }
    send_remote_signal(input.payload, vec![to])
}

/// A remote signal arrived: hand it to the host with its sender. The conductor hands
/// `recv_remote_signal` the payload `send_remote_signal` encoded, not wrapped in an `ExternIO`.
pub fn receive(payload: Value) -> ExternResult<()> {
    emit_signal(SignalEnvelope { from: b64(&call_info()?.provenance), payload })
}
