//! Membrane proofs. On a network whose DNA properties say `membrane: "invite"`, every agent but the
//! progenitor opens its chain (the AgentValidationPkg of genesis) with an invite grant issued by the
//! progenitor; peers refuse the chain, and so every op, of an agent without one. The host checks the
//! grant's Ed25519 signature (as it checks every action's) and hands the rules the grant with the time of
//! the genesis; these rules judge what the grant says.
//!
//! The role a grant gives (member, worker, admin) follows its agent: the host hands every later op's
//! rules the author's proof (`author_proof`), and `author_role` reads it. The progenitor is an admin.
//! An agent invited as admin invites in turn: with a grant it issued, the host hands the rules the
//! issuer's own genesis proof (`issuer_proof`, validated when the issuer joined, and awaited like any
//! dependency while the issuer's chain has not arrived), and the grant counts when that says admin.
//!
//! Admission is witnessed (design 4d): a grant that says `witnessed` is redeemed with a member online,
//! which checks it against its own clock and record and signs a statement (network, invite, agent,
//! when) that the joiner puts in its proof. The host checks the statement's signature and hands the
//! rules the witness's own genesis proof (`witness_proof`, awaited like `issuer_proof`); expiry,
//! `issued_at` and which agent used the invite first are then judged by the witness's time, never by
//! the genesis time its author chose. A grant without the field (issued by 0.1.0) keeps the old rule.
use serde::Deserialize;
use serde_json::Value;

use crate::check::{nullable, Ck};
use crate::input::{decode, Outcome, ValidationInput, Verdict};

/// The entry type name the host uses for a genesis' membrane proof, in every DNA.
pub const ENTRY_TYPE: &str = "MembraneProof";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembraneCheck {
    #[serde(deserialize_with = "nullable")]
    proof: Option<Proof>,
    /// When the genesis was written, microseconds since the epoch.
    genesis_at: u64,
    /// The genesis proof of the grant's issuer, when that is not the progenitor.
    #[serde(default, deserialize_with = "nullable")]
    issuer_proof: Option<Proof>,
    /// The genesis proof of the agent that witnessed the redemption, when that is not the progenitor.
    #[serde(default, deserialize_with = "nullable")]
    witness_proof: Option<Proof>,
    /// How many other agents' geneses held by the validating peer cite the same invite and were
    /// admitted before this one (earlier `witnessed_at`, or `genesis_at` for an unwitnessed grant, then
    /// the lesser agent key): the uses it has had already.
    #[serde(default)]
    prior_uses: u32,
    /// The witness is revoked or warranted as the validating peer holds it (issue 55, point 3): its
    /// statements may carry any time it chose, so none of them counts any more.
    #[serde(default)]
    witness_barred: bool,
    /// When the witness itself was admitted (µs: its own redemption time; absent for the progenitor):
    /// it cannot have witnessed anything before it was a member.
    #[serde(default, deserialize_with = "nullable")]
    witness_since: Option<u64>,
    /// For a grant without `witnessed` (0.1.0), once an admin sealed the legacy invites (a `LegacySeal`
    /// held): whether the seal lists this agent's use of the grant. Absent while no seal is held.
    #[serde(default, deserialize_with = "nullable")]
    legacy_listed: Option<bool>,
}

/// How far ahead of the witness's clock an invite's `issued_at` may be (the admin's clock may run ahead).
pub const ISSUED_AT_SKEW_MS: u64 = 5 * 60 * 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Proof {
    grant: Grant,
    #[allow(dead_code)] // checked by the host
    signature: String,
    /// The member's statement that it witnessed this redemption (from release 0.2.0).
    #[serde(default, deserialize_with = "nullable")]
    witness: Option<Witness>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Witness {
    statement: Statement,
    #[allow(dead_code)] // checked by the host, by `statement.witness`'s key
    signature: String,
}

/// What a witness signs: it saw `agent` redeem `invite_id` of `network_id` at `witnessed_at` (µs, its clock).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Statement {
    network_id: String,
    invite_id: String,
    agent: String,
    witnessed_at: u64,
    witness: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    network_id: String,
    role: String,
    /// Names the invite: the host matches it against revocations, the witness's statement names it.
    invite_id: String,
    /// Milliseconds since the epoch.
    issued_at: u64,
    /// Milliseconds since the epoch.
    expires_at: u64,
    issuer: String,
    /// How many agents the invite admits; a grant that names none admits one.
    #[serde(default, deserialize_with = "nullable")]
    uses: Option<u32>,
    /// Redeemed only with a member's witness (`ripple invite` from 0.2.0, once every member reads it).
    #[serde(default, deserialize_with = "nullable")]
    witnessed: Option<bool>,
}

/// What an agent may do on a network that requires invites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Member,
    Worker,
    Admin,
}

impl Role {
    fn named(name: &str) -> Option<Role> {
        match name {
            "member" => Some(Role::Member),
            "worker" => Some(Role::Worker),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

fn requires_invite(input: &ValidationInput) -> bool {
    input.properties.get("membrane").and_then(Value::as_str) == Some("invite")
}

fn progenitor_of<'a>(ck: &Ck, input: &'a ValidationInput) -> Result<&'a str, Outcome> {
    let progenitor = input.properties.get("progenitor").and_then(Value::as_str);
    progenitor.ok_or_else(|| ck.fail("properties_progenitor_format", "a network that requires invites must name its progenitor"))
}

/// The author's role from the invite of its genesis (the progenitor is an admin); None on a network that
/// does not require invites, where roles do not apply. A `<entry>.author_role_unknown` failure when the
/// host gave no readable proof.
pub fn author_role(ck: &Ck, input: &ValidationInput) -> Result<Option<Role>, Outcome> {
    if !requires_invite(input) {
        return Ok(None);
    }
    if input.author == progenitor_of(ck, input)? {
        return Ok(Some(Role::Admin));
    }
    let unknown = |why: String| ck.fail("author_role_unknown", format!("the author has no role here: {why}"));
    let proof: Proof = match input.author_proof.as_deref() {
        None => return Err(unknown("it joined without an invite".into())),
        Some(raw) => decode(Some(raw)).map_err(|e| unknown(format!("its invite cannot be read: {e}")))?,
    };
    Role::named(&proof.grant.role).map(Some).ok_or_else(|| unknown(format!("no role {:?}", proof.grant.role)))
}

/// The author is an admin: the progenitor, or, on a network that requires invites, invited as admin.
pub fn author_is_admin(ck: &Ck, input: &ValidationInput) -> Verdict {
    let progenitor = input.properties.get("progenitor").and_then(Value::as_str);
    if progenitor.is_none() {
        return Err(ck.fail("no_progenitor", "this network names no progenitor, so it has no admins"));
    }
    let admin = progenitor == Some(input.author.as_str()) || author_role(ck, input)? == Some(Role::Admin);
    ck.rule("author_is_admin", admin, || "only an admin (the progenitor or an agent invited as admin) may write it".into())
}

pub fn membrane_proof(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("membrane_proof");
    if !requires_invite(input) {
        return Ok(());
    }
    let progenitor = progenitor_of(&ck, input)?;
    if input.author == progenitor {
        return Ok(());
    }
    let c: MembraneCheck = ck.parse(input.entry.as_deref())?;
    let proof = c.proof.ok_or_else(|| ck.fail("missing", "this network admits only agents with an invite from its admin"))?;
    let g = &proof.grant;
    let network = input.properties.get("network_id").and_then(Value::as_str).unwrap_or("");
    let issuer_admin = g.issuer == progenitor
        || matches!(&c.issuer_proof, Some(p) if p.grant.role == "admin" && p.grant.network_id == network);
    ck.rule("issuer_is_admin", issuer_admin, || {
        format!("the invite was issued by {}, who is not an admin of this mesh (the progenitor {progenitor}, or an agent it invited as admin)", g.issuer)
    })?;
    ck.rule("network_mismatch", g.network_id == network, || format!("the invite is for network {}, this is {network}", g.network_id))?;
    ck.format("grant.role", Role::named(&g.role).is_some(), "member, worker or admin")?;
    // The time the invite was redeemed: the witness's, or (a grant from 0.1.0) the genesis' own.
    let redeemed_at = match &proof.witness {
        Some(w) => {
            let at = witnessed_at(&ck, input, progenitor, network, g, w, c.witness_proof.as_ref())?;
            ck.rule("witness_barred", !c.witness_barred, || {
                format!("the redemption was witnessed by {}, whom this mesh revoked or warranted", w.statement.witness)
            })?;
            ck.rule("witness_not_yet_member", c.witness_since.map_or(true, |since| at >= since), || {
                format!(
                    "the witness {} states it saw the redemption at {at} µs, before it was itself admitted (at {} µs)",
                    w.statement.witness,
                    c.witness_since.unwrap_or(0)
                )
            })?;
            at
        }
        None => {
            ck.rule("unwitnessed", g.witnessed != Some(true), || {
                format!("invite {} is redeemed only with a member's witness, and this chain has none", g.invite_id)
            })?;
            // Once sealed, a legacy grant admits exactly the uses the seal lists: a genesis dated before
            // the real holder's (its time is its author's to choose) gains nothing.
            ck.rule("legacy_retired", c.legacy_listed != Some(false), || {
                format!(
                    "invite {} is of the 0.1.0 form, and the mesh's admins sealed those: it admits only the machines that had joined with it",
                    g.invite_id
                )
            })?;
            if c.legacy_listed == Some(true) {
                return Ok(());
            }
            c.genesis_at
        }
    };
    ck.rule("expired", redeemed_at <= g.expires_at.saturating_mul(1000), || {
        format!("the invite expired at {} ms, before it was redeemed at {} µs", g.expires_at, redeemed_at)
    })?;
    let uses = g.uses.unwrap_or(1);
    ck.format("grant.uses", uses >= 1, "at least 1")?;
    ck.rule("invite_used", c.prior_uses < uses, || {
        format!("the invite admits {uses} agent(s) and {} other agent(s) joined with it first", c.prior_uses)
    })
}

/// When the witness saw the redemption (µs), once its statement is judged: for this network, invite
/// and author, by a member (the progenitor, or an agent invited as member or admin), after the invite
/// was issued (give or take ISSUED_AT_SKEW_MS).
fn witnessed_at(
    ck: &Ck,
    input: &ValidationInput,
    progenitor: &str,
    network: &str,
    g: &Grant,
    w: &Witness,
    witness_proof: Option<&Proof>,
) -> Result<u64, Outcome> {
    let s = &w.statement;
    ck.rule("witness_network", s.network_id == network, || format!("the witness statement is for network {}, this is {network}", s.network_id))?;
    ck.rule("witness_invite", s.invite_id == g.invite_id, || format!("the witness statement names invite {}, not {}", s.invite_id, g.invite_id))?;
    ck.rule("witness_agent", s.agent == input.author, || format!("the witness statement admits {}, not this chain's author", s.agent))?;
    let member = s.witness == progenitor
        || matches!(witness_proof, Some(p) if p.grant.network_id == network && matches!(p.grant.role.as_str(), "member" | "admin"));
    ck.rule("witness_not_member", member, || {
        format!("the redemption was witnessed by {}, who is not a member of this mesh (the progenitor, or an agent invited as member or admin)", s.witness)
    })?;
    ck.rule("not_yet_valid", g.issued_at <= (s.witnessed_at / 1000).saturating_add(ISSUED_AT_SKEW_MS), || {
        format!("the invite was issued at {} ms, after it was redeemed at {} µs", g.issued_at, s.witnessed_at)
    })?;
    Ok(s.witnessed_at)
}
