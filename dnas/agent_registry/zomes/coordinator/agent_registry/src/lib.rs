//! agent_registry coordinator: the contract's functions (zomes-bindings/agent_registry.ts), as the
//! embedded conductor runs them (host/conductor/embedded/zomes/agent-registry.ts).
use agent_registry_integrity::{entry_index, EntryTypes, LegacySeal, LinkTypes, NodeCapability, Revocation, UnitEntryTypes};
use coordinator_support::*;
// Ours (one name), not the hdk prelude's `anchor` (type, text), which the glob imports would make ambiguous.
use coordinator_support::anchor;
use hdk::prelude::*;
use serde_json::Value;

const ALL_NODES: &str = "all_nodes";
const ALL_REVOCATIONS: &str = "all_revocations";
const ALL_LEGACY_SEALS: &str = "all_legacy_seals";

fn tag_anchor(tag: &str) -> ExternResult<EntryHash> {
    anchor(&format!("tag:{tag}"))
}

fn capability_index() -> u8 {
    entry_index(UnitEntryTypes::NodeCapability)
}

fn tags_of(capability: &Value) -> Vec<String> {
    capability["tags"]
        .as_array()
        .map(|tags| tags.iter().filter_map(|t| t.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[hdk_extern]
pub fn init(_: ()) -> ExternResult<InitCallbackResult> {
    grant_remote_signals()
}

/// Creates the agent's capability, or updates the one it already has (nothing when unchanged).
#[hdk_extern]
pub fn advertise_capability(capability: Value) -> ExternResult<RecordRef> {
    let me = agent_info()?.agent_initial_pubkey;
    let entry = EntryTypes::NodeCapability(NodeCapability(capability.clone()));
    let Some(link) = own_capability_link(&me)? else {
        let hash = create_entry(&entry)?;
        create_link(anchor(ALL_NODES)?, me.clone(), LinkTypes::AllNodes, LinkTag::new(vec![]))?;
        create_link(me.clone(), hash.clone(), LinkTypes::AgentToCapability, LinkTag::new(vec![]))?;
        for tag in tags_of(&capability) {
            link_tag(&me, &tag)?;
        }
        return record_ref(&hash);
    };
    let original = link.target.into_action_hash().ok_or_else(|| guest_error("capability link target is not an action"))?;
    let latest = get_latest(original, &Standing::none())?
        .ok_or_else(|| guest_error("this agent deleted its capability; it cannot be updated"))?;
    let previous = to_entry_record(&latest)?;
    if previous.entry == capability {
        return record_ref(latest.action_address());
    }
    let hash = update_entry(latest.action_address().clone(), &entry)?;
    let (old, new) = (tags_of(&previous.entry), tags_of(&capability));
    for tag in old.iter().filter(|t| !new.contains(t)) {
        unlink_tag(&me, tag)?;
    }
    for tag in new.iter().filter(|t| !old.contains(t)) {
        link_tag(&me, tag)?;
    }
    record_ref(&hash)
}

#[hdk_extern]
pub fn get_capability(agent: String) -> ExternResult<Option<EntryRecord>> {
    capability_of(&agent_key(&agent)?, &held()?)
}

#[hdk_extern]
pub fn list_nodes(_: ()) -> ExternResult<Vec<EntryRecord>> {
    capabilities_of(self_links(LinkTypes::AllNodes, anchor(ALL_NODES)?)?, &held()?)
}

#[hdk_extern]
pub fn find_nodes_by_tag(tag: String) -> ExternResult<Vec<EntryRecord>> {
    let agents = self_links(LinkTypes::TagToAgent, tag_anchor(&tag)?)?;
    // A tag link can outlive the tag for an instant between two writes; the entry has the last word.
    Ok(capabilities_of(agents, &held()?)?.into_iter().filter(|r| tags_of(&r.entry).contains(&tag)).collect())
}

/// Writes a Revocation; the rules admit it from admins only.
#[hdk_extern]
pub fn revoke(revocation: Value) -> ExternResult<RecordRef> {
    let hash = create_entry(&EntryTypes::Revocation(Revocation(revocation)))?;
    create_link(anchor(ALL_REVOCATIONS)?, hash.clone(), LinkTypes::AllRevocations, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

#[hdk_extern]
pub fn list_revocations(_: ()) -> ExternResult<Vec<EntryRecord>> {
    linked_records(anchor(ALL_REVOCATIONS)?, LinkTypes::AllRevocations, entry_index(UnitEntryTypes::Revocation), &Standing::none())
}

/// The revocations this agent holds, for its reads of the others' records.
fn held() -> ExternResult<Standing> {
    Ok(Standing::from_revocations(&list_revocations(())?))
}

/// Admins only (rules): seals the uses of 0.1.0 invites the admin has seen.
#[hdk_extern]
pub fn seal_legacy_invites(seal: Value) -> ExternResult<RecordRef> {
    let hash = create_entry(&EntryTypes::LegacySeal(LegacySeal(seal)))?;
    create_link(anchor(ALL_LEGACY_SEALS)?, hash.clone(), LinkTypes::AllLegacySeals, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

#[hdk_extern]
pub fn list_legacy_seals(_: ()) -> ExternResult<Vec<EntryRecord>> {
    linked_records(anchor(ALL_LEGACY_SEALS)?, LinkTypes::AllLegacySeals, entry_index(UnitEntryTypes::LegacySeal), &held()?)
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

fn own_capability_link(agent: &AgentPubKey) -> ExternResult<Option<Link>> {
    let links = get_links(LinkQuery::try_new(agent.clone(), LinkTypes::AgentToCapability)?, GetStrategy::Network)?;
    Ok(links.into_iter().find(|l| &l.author == agent))
}

fn capability_of(agent: &AgentPubKey, held: &Standing) -> ExternResult<Option<EntryRecord>> {
    let Some(link) = own_capability_link(agent)? else { return Ok(None) };
    let Some(target) = link.target.into_action_hash() else { return Ok(None) };
    live_entry_record(target, capability_index(), held)
}

/// Agents that linked themselves from `base` (a link by anyone else is noise), once each.
fn self_links(link_type: LinkTypes, base: EntryHash) -> ExternResult<Vec<AgentPubKey>> {
    let mut agents: Vec<AgentPubKey> = Vec::new();
    for link in get_links(LinkQuery::try_new(base, link_type)?, GetStrategy::Network)? {
        let Some(target) = link.target.into_agent_pub_key() else { continue };
        if target == link.author && !agents.contains(&target) {
            agents.push(target);
        }
    }
    Ok(agents)
}

fn capabilities_of(agents: Vec<AgentPubKey>, held: &Standing) -> ExternResult<Vec<EntryRecord>> {
    let mut records = Vec::new();
    for agent in agents {
        if let Some(record) = capability_of(&agent, held)? {
            records.push(record);
        }
    }
    Ok(records)
}

fn link_tag(me: &AgentPubKey, tag: &str) -> ExternResult<()> {
    create_link(tag_anchor(tag)?, me.clone(), LinkTypes::TagToAgent, LinkTag::new(tag.as_bytes().to_vec()))?;
    Ok(())
}

fn unlink_tag(me: &AgentPubKey, tag: &str) -> ExternResult<()> {
    for link in get_links(LinkQuery::try_new(tag_anchor(tag)?, LinkTypes::TagToAgent)?, GetStrategy::Network)? {
        if &link.author == me && link.target.clone().into_agent_pub_key().as_ref() == Some(me) {
            delete_link(link.create_link_hash, GetOptions::network())?;
        }
    }
    Ok(())
}
