//! policy_store coordinator: the contract's functions (zomes-bindings/policy_store.ts), as the embedded
//! conductor runs them (host/conductor/embedded/zomes/policy-store.ts). Who may write is the rules'
//! business (the progenitor or an admin it granted), checked in the integrity zome.
use std::collections::BTreeMap;

use coordinator_support::*;
// Ours (one name), not the hdk prelude's `anchor` (type, text), which the glob imports would make ambiguous.
use coordinator_support::anchor;
use hdk::prelude::*;
use policy_store_integrity::{entry_index, AdminGrant, Decision, EntryTypes, LinkTypes, ModelAlias, Policy, UnitEntryTypes};
use serde::Deserialize;
use serde_json::Value;

const ALL_POLICIES: &str = "all_policies";
const ALL_ADMINS: &str = "all_admins";
const ALL_DECISIONS: &str = "all_decisions";
const ALL_MODEL_ALIASES: &str = "all_model_aliases";

fn policy_anchor(id: &str) -> ExternResult<EntryHash> {
    anchor(&format!("policy:{id}"))
}

#[hdk_extern]
pub fn init(_: ()) -> ExternResult<InitCallbackResult> {
    grant_remote_signals()
}

/// A new policy id is created; a known one is updated (the rules require a higher version).
#[hdk_extern]
pub fn publish_policy(policy: Value) -> ExternResult<RecordRef> {
    let id = policy["id"].as_str().unwrap_or_default().to_string();
    let held = Standing::held()?;
    let current = latest_per_id(linked_records(policy_anchor(&id)?, LinkTypes::PolicyIdToPolicy, index(UnitEntryTypes::Policy), &held)?);
    let entry = EntryTypes::Policy(Policy(policy));
    let hash = match current.get(&id) {
        Some(previous) => update_entry(action_hash(&previous.action_hash)?, &entry)?,
        None => create_entry(&entry)?,
    };
    create_link(anchor(ALL_POLICIES)?, hash.clone(), LinkTypes::AllPolicies, LinkTag::new(vec![]))?;
    create_link(policy_anchor(&id)?, hash.clone(), LinkTypes::PolicyIdToPolicy, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

/// The latest version of each policy id, by id.
#[hdk_extern]
pub fn list_policies(_: ()) -> ExternResult<Vec<EntryRecord>> {
    let all = linked_records(anchor(ALL_POLICIES)?, LinkTypes::AllPolicies, index(UnitEntryTypes::Policy), &Standing::held()?)?;
    Ok(latest_per_id(all).into_values().collect())
}

#[hdk_extern]
pub fn grant_admin(grant: Value) -> ExternResult<RecordRef> {
    let hash = create_entry(&EntryTypes::AdminGrant(AdminGrant(grant)))?;
    create_link(anchor(ALL_ADMINS)?, hash.clone(), LinkTypes::AllAdmins, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

#[hdk_extern]
pub fn list_admins(_: ()) -> ExternResult<Vec<EntryRecord>> {
    linked_records(anchor(ALL_ADMINS)?, LinkTypes::AllAdmins, index(UnitEntryTypes::AdminGrant), &Standing::held()?)
}

#[hdk_extern]
pub fn record_decision(decision: Value) -> ExternResult<RecordRef> {
    let subject = agent_key(decision["subject"].as_str().unwrap_or_default())?;
    let hash = create_entry(&EntryTypes::Decision(Decision(decision.clone())))?;
    // The resource as the tag: a task's decisions are found by prefix, however many others exist.
    let tag = resource_tag(decision["resource"].as_str().unwrap_or_default());
    create_link(anchor(ALL_DECISIONS)?, hash.clone(), LinkTypes::AllDecisions, LinkTag::new(tag))?;
    create_link(subject, hash.clone(), LinkTypes::SubjectToDecisions, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

#[derive(Deserialize, Debug)]
pub struct ListDecisions {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_limit() -> usize {
    100
}

/// A decision link's tag: the resource's UTF-8 and a NUL, so one resource is never a prefix of another.
fn resource_tag(resource: &str) -> Vec<u8> {
    let mut tag = resource.as_bytes().to_vec();
    tag.push(0);
    tag
}

/// Newest first; no subject lists every subject's; a resource only those about it.
#[hdk_extern]
pub fn list_decisions(input: ListDecisions) -> ExternResult<Vec<EntryRecord>> {
    let held = Standing::held()?;
    let decisions = match (&input.resource, &input.subject) {
        (Some(resource), subject) => linked_records_tagged(
            anchor(ALL_DECISIONS)?,
            LinkTypes::AllDecisions,
            resource_tag(resource),
            index(UnitEntryTypes::Decision),
            &held,
        )?
        .into_iter()
        .filter(|d| {
            d.str_field("resource") == Some(resource.as_str())
                && subject.as_ref().map_or(true, |s| d.str_field("subject") == Some(s.as_str()))
        })
        .collect(),
        (None, None) => linked_records(anchor(ALL_DECISIONS)?, LinkTypes::AllDecisions, index(UnitEntryTypes::Decision), &held)?,
        (None, Some(subject)) => linked_records(agent_key(subject)?, LinkTypes::SubjectToDecisions, index(UnitEntryTypes::Decision), &held)?
            .into_iter()
            .filter(|d| d.str_field("subject") == Some(subject.as_str()))
            .collect(),
    };
    Ok(decisions.into_iter().rev().take(input.limit).collect())
}

/// A mesh-wide model alias (admins only, by the rules); one naming no models removes the name's alias.
#[hdk_extern]
pub fn publish_model_alias(alias: Value) -> ExternResult<RecordRef> {
    let hash = create_entry(&EntryTypes::ModelAlias(ModelAlias(alias)))?;
    create_link(anchor(ALL_MODEL_ALIASES)?, hash.clone(), LinkTypes::AllModelAliases, LinkTag::new(vec![]))?;
    record_ref(&hash)
}

/// The latest entry of each alias name (then the highest action hash: the same pick everywhere), removed ones left out.
#[hdk_extern]
pub fn list_model_aliases(_: ()) -> ExternResult<Vec<EntryRecord>> {
    let held = Standing::held()?;
    let all = linked_records(anchor(ALL_MODEL_ALIASES)?, LinkTypes::AllModelAliases, index(UnitEntryTypes::ModelAlias), &held)?;
    let mut latest: BTreeMap<String, EntryRecord> = BTreeMap::new();
    for a in all {
        let name = a.str_field("name").unwrap_or_default().to_string();
        let key = |r: &EntryRecord| (r.timestamp, r.action_hash.clone());
        if latest.get(&name).is_none_or(|best| key(&a) > key(best)) {
            latest.insert(name, a);
        }
    }
    let named = |a: &EntryRecord| a.entry["targets"].as_array().is_some_and(|t| !t.is_empty());
    Ok(latest.into_values().filter(named).collect())
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

fn index(unit: UnitEntryTypes) -> u8 {
    entry_index(unit)
}

/// Per id, the highest version (then the latest, then the highest action hash: the same pick everywhere).
fn latest_per_id(policies: Vec<EntryRecord>) -> BTreeMap<String, EntryRecord> {
    let mut latest: BTreeMap<String, EntryRecord> = BTreeMap::new();
    for p in policies {
        let id = p.str_field("id").unwrap_or_default().to_string();
        let key = |r: &EntryRecord| (r.entry["version"].as_i64().unwrap_or(0), r.timestamp, r.action_hash.clone());
        if latest.get(&id).is_none_or(|best| key(&p) > key(best)) {
            latest.insert(id, p);
        }
    }
    latest
}
