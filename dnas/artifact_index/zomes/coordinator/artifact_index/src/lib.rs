//! artifact_index coordinator: the contract's functions (zomes-bindings/artifact_index.ts): artifacts
//! linked from an all-artifacts anchor and from their CID, pin commitments from the artifact and the
//! holder; a released pin is a deleted PinCommitment.
use coordinator_support::*;
// Ours (one name), not the hdk prelude's `anchor` (type, text), which the glob imports would make ambiguous.
use coordinator_support::anchor;
use hdk::prelude::*;
use artifact_index_integrity::{entry_index, Artifact, EntryTypes, LinkTypes, PinCommitment, UnitEntryTypes};
use serde_json::Value;

const ALL_ARTIFACTS: &str = "all_artifacts";

fn cid_anchor(cid: &str) -> ExternResult<EntryHash> {
    anchor(&format!("cid:{cid}"))
}

#[hdk_extern]
pub fn init(_: ()) -> ExternResult<InitCallbackResult> {
    grant_remote_signals()
}

#[hdk_extern]
pub fn register_artifact(artifact: Value) -> ExternResult<RecordRef> {
    let cid = artifact["cid"].as_str().unwrap_or_default().to_string();
    let hash = create_entry(&EntryTypes::Artifact(Artifact(artifact)))?;
    create_link(anchor(ALL_ARTIFACTS)?, hash.clone(), LinkTypes::AllArtifacts, LinkTag::new(vec![]))?;
    create_link(cid_anchor(&cid)?, hash.clone(), LinkTypes::CidToArtifact, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

/// The earliest registration of a CID.
#[hdk_extern]
pub fn get_artifact(cid: String) -> ExternResult<Option<EntryRecord>> {
    Ok(artifacts_of(&cid, &Standing::held()?)?.into_iter().next())
}

#[hdk_extern]
pub fn list_artifacts(_: ()) -> ExternResult<Vec<EntryRecord>> {
    linked_records(anchor(ALL_ARTIFACTS)?, LinkTypes::AllArtifacts, entry_index(UnitEntryTypes::Artifact), &Standing::held()?)
}

#[hdk_extern]
pub fn commit_pin(pin: Value) -> ExternResult<RecordRef> {
    let artifact = action_hash(pin["artifact"].as_str().unwrap_or_default())?;
    let holder = agent_key(pin["holder"].as_str().unwrap_or_default())?;
    let hash = create_entry(&EntryTypes::PinCommitment(PinCommitment(pin)))?;
    create_link(artifact, hash.clone(), LinkTypes::ArtifactToPins, LinkTag::new(vec![]))?;
    create_link(holder, hash.clone(), LinkTypes::AgentToPins, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

/// Deletes the caller's PinCommitment; the rules let only its author delete it.
#[hdk_extern]
pub fn release_pin(pin: String) -> ExternResult<String> {
    let deleted = delete_entry(action_hash(&pin)?)?;
    Ok(b64(&deleted))
}

/// Live (unreleased) commitments for a CID, over every artifact registered for it.
#[hdk_extern]
pub fn list_pin_holders(cid: String) -> ExternResult<Vec<EntryRecord>> {
    let held = Standing::held()?;
    let mut pins = Vec::new();
    for artifact in artifacts_of(&cid, &held)? {
        let pin_index = entry_index(UnitEntryTypes::PinCommitment);
        for pin in linked_records(action_hash(&artifact.action_hash)?, LinkTypes::ArtifactToPins, pin_index, &held)? {
            if pin.str_field("cid") == Some(cid.as_str()) && pin.str_field("holder") == Some(pin.author.as_str()) {
                pins.push(pin);
            }
        }
    }
    pins.sort_by_key(|p| p.timestamp);
    Ok(pins)
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

fn artifacts_of(cid: &str, held: &Standing) -> ExternResult<Vec<EntryRecord>> {
    Ok(linked_records(cid_anchor(cid)?, LinkTypes::CidToArtifact, entry_index(UnitEntryTypes::Artifact), held)?
        .into_iter()
        .filter(|a| a.str_field("cid") == Some(cid))
        .collect())
}
