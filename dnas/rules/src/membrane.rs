//! Membrane proofs. On a network whose DNA properties say `membrane: "invite"`, every agent but the
//! progenitor opens its chain (the AgentValidationPkg of genesis) with an invite grant issued by the
//! progenitor; peers refuse the chain, and so every op, of an agent without one. The host checks the
//! grant's Ed25519 signature (as it checks every action's) and hands the rules the grant with the time of
//! the genesis; these rules judge what the grant says.
use serde::Deserialize;
use serde_json::Value;

use crate::check::{nullable, Ck};
use crate::input::{ValidationInput, Verdict};

/// The entry type name the host uses for a genesis' membrane proof, in every DNA.
pub const ENTRY_TYPE: &str = "MembraneProof";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembraneCheck {
    #[serde(deserialize_with = "nullable")]
    proof: Option<Proof>,
    /// When the genesis was written, microseconds since the epoch.
    genesis_at: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Proof {
    grant: Grant,
    #[allow(dead_code)] // checked by the host
    signature: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    network_id: String,
    role: String,
    #[allow(dead_code)] // names the invite; spent-invite tracking comes with revocation
    invite_id: String,
    #[allow(dead_code)]
    issued_at: u64,
    /// Milliseconds since the epoch.
    expires_at: u64,
    issuer: String,
}

pub fn membrane_proof(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("membrane_proof");
    let props = &input.properties;
    if props.get("membrane").and_then(Value::as_str) != Some("invite") {
        return Ok(());
    }
    let progenitor = props.get("progenitor").and_then(Value::as_str);
    let progenitor = progenitor
        .ok_or_else(|| ck.fail("properties_progenitor_format", "a network that requires invites must name its progenitor"))?;
    if input.author == progenitor {
        return Ok(());
    }
    let c: MembraneCheck = ck.parse(input.entry.as_deref())?;
    let proof = c.proof.ok_or_else(|| ck.fail("missing", "this network admits only agents with an invite from its admin"))?;
    let g = &proof.grant;
    ck.rule("issuer_is_admin", g.issuer == progenitor, || format!("the invite was issued by {}, not by the admin {progenitor}", g.issuer))?;
    let network = props.get("network_id").and_then(Value::as_str).unwrap_or("");
    ck.rule("network_mismatch", g.network_id == network, || format!("the invite is for network {}, this is {network}", g.network_id))?;
    ck.format("grant.role", matches!(g.role.as_str(), "member" | "worker" | "admin"), "member, worker or admin")?;
    ck.rule("expired", c.genesis_at <= g.expires_at.saturating_mul(1000), || {
        format!("the invite expired at {} ms, before this chain began at {} µs", g.expires_at, c.genesis_at)
    })
}
