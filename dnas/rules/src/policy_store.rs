//! policy_store: Policy, AdminGrant, Decision, ModelAlias.
//!
//! Admins write Policy, AdminGrant and ModelAlias: the progenitor (`properties.progenitor`, an AgentPubKeyB64) or an
//! agent holding an AdminGrant that the entry cites (the cited grant was itself validated when it was
//! stored, so authority chains back to the progenitor). With no progenitor (null or absent) nobody may
//! write them: a network that names no admin cannot be taken over by whoever writes the first policy.
//! Grants are not revoked in this version (immutable); Decisions are an append-only audit trail; model
//! aliases are append-only too (the latest entry of a name is the alias; one naming no models removes it).
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::check::{nullable, Change, Ck, HashKind, Rules};
use crate::input::{Op, ValidationInput, Verdict};
use crate::limits::*;

pub fn rules(entry_type: &str) -> Option<Rules> {
    match entry_type {
        "Policy" => Some(policy),
        "AdminGrant" => Some(admin_grant),
        "Decision" => Some(decision),
        "ModelAlias" => Some(model_alias),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    id: String,
    version: u64,
    text: String,
    description: String,
    #[serde(deserialize_with = "nullable")]
    admin_grant: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminGrant {
    agent: String,
    #[serde(deserialize_with = "nullable")]
    granted_by_grant: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    subject: String,
    action: String,
    resource: String,
    #[allow(dead_code)] // part of the shape; either value is valid
    allowed: bool,
    policy_ids: Vec<String>,
    reason: String,
    context: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelAlias {
    name: String,
    targets: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    admin_grant: Option<String>,
}

/// The progenitor named in the DNA properties, if any.
fn progenitor<'a>(ck: &Ck, input: &'a ValidationInput) -> Result<Option<&'a str>, crate::Outcome> {
    match input.properties.get("progenitor") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(key)) => {
            ck.hash("properties.progenitor", key, HashKind::Agent)?;
            Ok(Some(key))
        }
        Some(other) => Err(ck.fail("properties_progenitor_format", format!("progenitor must be an agent key, got {other}"))),
    }
}

/// The author is the progenitor, or holds the AdminGrant `grant` (the entry's `field`) cites.
fn author_is_admin(ck: &Ck, input: &ValidationInput, field: &str, grant: Option<&str>) -> Verdict {
    let progenitor = progenitor(ck, input)?
        .ok_or_else(|| ck.fail("no_progenitor", "this network names no progenitor, so it has no admins"))?;
    if input.author == progenitor {
        return Ok(());
    }
    let grant = grant.ok_or_else(|| {
        ck.fail("author_is_admin", format!("the author is not the progenitor and cites no AdminGrant in {field}"))
    })?;
    input.need(&[grant])?;
    let (_, g): (_, AdminGrant) = input.dep_as(grant, "AdminGrant", &format!("{}.{field}_type", ck.entry))?;
    ck.rule("author_is_admin", g.agent == input.author, || {
        format!("the AdminGrant in {field} is for {}, not the author", g.agent)
    })
}

fn policy(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("policy");
    if input.op == Op::Delete {
        let progenitor = progenitor(&ck, input)?;
        let original = input.original();
        return ck.rule("delete_author", Some(input.author.as_str()) == progenitor || input.author == original.author, || {
            "only the progenitor or the policy's author may delete it".into()
        });
    }
    let p: Policy = ck.parse(input.entry.as_deref())?;
    ck.slug("id", &p.id, POLICY_ID)?;
    ck.int("version", p.version, POLICY_VERSION)?;
    ck.prose("text", &p.text, POLICY_TEXT)?;
    ck.line("description", &p.description, POLICY_DESCRIPTION)?;
    ck.opt_hash("admin_grant", &p.admin_grant, HashKind::Action)?;
    if input.op == Op::Update {
        let original: Policy = ck.parse(input.original().entry.as_deref())?;
        ck.rule("update_id", p.id == original.id, || format!("an update must keep id {:?}", original.id))?;
        ck.rule("update_version", p.version > original.version, || {
            format!("an update must raise version above {}", original.version)
        })?;
    }
    author_is_admin(&ck, input, "admin_grant", p.admin_grant.as_deref())
}

fn admin_grant(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("admin_grant");
    ck.rights(input, Change::Never, Change::Never)?;
    let g: AdminGrant = ck.parse(input.entry.as_deref())?;
    ck.hash("agent", &g.agent, HashKind::Agent)?;
    ck.opt_hash("granted_by_grant", &g.granted_by_grant, HashKind::Action)?;
    ck.rule("self_grant", g.agent != input.author, || "an agent cannot grant itself admin".into())?;
    author_is_admin(&ck, input, "granted_by_grant", g.granted_by_grant.as_deref())
}

fn decision(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("decision");
    ck.rights(input, Change::Never, Change::Never)?;
    let d: Decision = ck.parse(input.entry.as_deref())?;
    ck.hash("subject", &d.subject, HashKind::Agent)?;
    ck.dotted("action", &d.action, DECISION_ACTION)?;
    ck.line("resource", &d.resource, DECISION_RESOURCE)?;
    ck.count("policy_ids", &d.policy_ids, DECISION_POLICY_IDS)?;
    for id in &d.policy_ids {
        ck.slug("policy_ids", id, POLICY_ID)?;
    }
    ck.prose("reason", &d.reason, REASON)?;
    let n = d.context.len() as u64;
    ck.rule("context_count", n <= DECISION_CONTEXT_KEYS.max, || {
        format!("context must have at most {} keys, got {n}", DECISION_CONTEXT_KEYS.max)
    })?;
    for (key, value) in &d.context {
        ck.line("context.key", key, DECISION_CONTEXT_KEY)?;
        match value {
            Value::String(s) => ck.line("context.value", s, DECISION_CONTEXT_VALUE)?,
            Value::Number(_) | Value::Bool(_) | Value::Null => {}
            _ => ck.format("context.value", false, "a string, number, boolean or null")?,
        }
    }
    Ok(())
}

/// A mesh-wide alias: a model name or a prefix ending in `*`, naming models (never a pattern, never
/// itself), each once; written by an admin, never changed (a later entry of the name replaces it).
fn model_alias(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("model_alias");
    ck.rights(input, Change::Never, Change::Never)?;
    let a: ModelAlias = ck.parse(input.entry.as_deref())?;
    ck.line("name", &a.name, MODEL_NAME)?;
    let stem = a.name.strip_suffix('*').unwrap_or(&a.name);
    ck.format("name", !stem.contains('*'), "a model name, or a prefix of one ending in \"*\"")?;
    ck.count("targets", &a.targets, MODEL_ALIAS_TARGETS)?;
    for target in &a.targets {
        ck.line("targets", target, MODEL_NAME)?;
        ck.format("targets", !target.contains('*'), "model names, without \"*\"")?;
    }
    ck.unique("targets", a.targets.iter().map(String::as_str))?;
    ck.rule("self_target", !a.targets.contains(&a.name), || format!("alias {:?} names itself", a.name))?;
    ck.opt_hash("admin_grant", &a.admin_grant, HashKind::Action)?;
    author_is_admin(&ck, input, "admin_grant", a.admin_grant.as_deref())
}
