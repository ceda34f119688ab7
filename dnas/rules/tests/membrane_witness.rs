//! Witnessed admission (issue 43, point 1): each rule of a witnessed redemption at its edge. The
//! genesis time is the joiner's own and may say anything; what counts is the witness's time.
use ripple_rules::{validate_json, Outcome};
use serde_json::{json, Value};

const NETWORK: &str = "cd70c790f35ed79cd7e86e6d8cdf1547e6ab8871817ffcf2d802e163da8961ec";
const ADMIN: &str = "uhCAkEdBcXi9coVz6si7jd7mdVWYGf-f-Go3QvNnTiUP-t1PIuvsF";
const JOINER: &str = "uhCAkJzl2RqPPCQx0bylGB_5JZeSLNLnMLjGFzJJnRmsmOdloJq-5";
const MEMBER: &str = "uhCAkuWO8kdQ2CvnjYjsFM-L6qRnoM5KeOp_AWBh4xp7SVRJ_Jxd1";
const INVITE: &str = "0123456789abcdef0123456789abcdef";
const SIG: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
const ISSUED_MS: u64 = 1_763_700_000_000;
const EXPIRES_MS: u64 = ISSUED_MS + 3_600_000;
const HOUR_US: u64 = 3_600_000_000;

fn grant(witnessed: bool) -> Value {
    let mut g = json!({
        "network_id": NETWORK, "role": "worker", "invite_id": INVITE,
        "issued_at": ISSUED_MS, "expires_at": EXPIRES_MS, "issuer": ADMIN, "uses": 1
    });
    if witnessed {
        g["witnessed"] = json!(true);
    }
    g
}

fn statement(witness: &str, agent: &str, witnessed_at: u64) -> Value {
    json!({
        "statement": { "network_id": NETWORK, "invite_id": INVITE, "agent": agent, "witnessed_at": witnessed_at, "witness": witness },
        "signature": SIG
    })
}

/// A genesis by JOINER at `genesis_at` (µs) with `proof`, and what else the host hands the rules.
fn check(proof: Value, genesis_at: u64, extra: Value) -> Outcome {
    let mut entry = json!({ "proof": proof, "genesis_at": genesis_at });
    for (k, v) in extra.as_object().unwrap() {
        entry[k] = v.clone();
    }
    let input = json!({
        "dna": "agent_registry", "entry_type": "MembraneProof", "op": "create", "author": JOINER,
        "entry": entry,
        "properties": { "membrane": "invite", "progenitor": ADMIN, "network_id": NETWORK },
        "deps": {}
    });
    validate_json(&serde_json::to_vec(&input).unwrap())
}

fn witnessed(witness: &str, agent: &str, witnessed_at: u64) -> Value {
    json!({ "grant": grant(true), "signature": SIG, "witness": statement(witness, agent, witnessed_at) })
}

fn rule_of(outcome: Outcome) -> String {
    match outcome {
        Outcome::Valid => "valid".into(),
        Outcome::Invalid { rule, .. } => rule,
        Outcome::Unresolved { deps } => format!("unresolved {deps:?}"),
    }
}

const IN_TIME_US: u64 = (ISSUED_MS + 60_000) * 1000;
const LATE_US: u64 = EXPIRES_MS * 1000 + 1;

#[test]
fn a_witnessed_redemption_in_time_is_valid_whatever_the_genesis_time() {
    for genesis_at in [0, IN_TIME_US, LATE_US + 24 * HOUR_US] {
        assert_eq!(rule_of(check(witnessed(ADMIN, JOINER, IN_TIME_US), genesis_at, json!({}))), "valid");
    }
}

#[test]
fn expiry_is_judged_by_the_witness_not_by_the_genesis() {
    // At the expiry instant still valid; a microsecond later expired, though the genesis says a day before.
    let at_expiry = witnessed(ADMIN, JOINER, EXPIRES_MS * 1000);
    assert_eq!(rule_of(check(at_expiry, IN_TIME_US, json!({}))), "valid");
    let backdated = IN_TIME_US - 24 * HOUR_US;
    assert_eq!(rule_of(check(witnessed(ADMIN, JOINER, LATE_US), backdated, json!({}))), "membrane_proof.expired");
}

#[test]
fn an_invite_witnessed_before_it_was_issued_is_not_yet_valid() {
    let skew_us = ripple_rules::ISSUED_AT_SKEW_MS * 1000;
    let edge = ISSUED_MS * 1000 - skew_us;
    assert_eq!(rule_of(check(witnessed(ADMIN, JOINER, edge), IN_TIME_US, json!({}))), "valid");
    let early = edge - 1000;
    assert_eq!(rule_of(check(witnessed(ADMIN, JOINER, early), IN_TIME_US, json!({}))), "membrane_proof.not_yet_valid");
}

#[test]
fn a_used_invite_is_refused_by_the_uses_the_host_counts_before_the_witness_time() {
    // The host counts geneses witnessed earlier (prior_uses); the genesis time plays no part.
    let proof = witnessed(ADMIN, JOINER, IN_TIME_US);
    assert_eq!(rule_of(check(proof.clone(), 0, json!({ "prior_uses": 1 }))), "membrane_proof.invite_used");
    assert_eq!(rule_of(check(proof, 0, json!({ "prior_uses": 0 }))), "valid");
}

#[test]
fn the_witness_must_be_a_member_of_this_mesh() {
    let member_proof = |role: &str, network: &str| {
        let mut g = grant(false);
        g["role"] = json!(role);
        g["network_id"] = json!(network);
        json!({ "grant": g, "signature": SIG })
    };
    let by_member = witnessed(MEMBER, JOINER, IN_TIME_US);
    for role in ["member", "admin"] {
        let extra = json!({ "witness_proof": member_proof(role, NETWORK) });
        assert_eq!(rule_of(check(by_member.clone(), IN_TIME_US, extra)), "valid", "{role}");
    }
    let other = "0".repeat(64);
    for (extra, why) in [
        (json!({}), "no genesis proof: not the progenitor"),
        (json!({ "witness_proof": member_proof("worker", NETWORK) }), "a worker"),
        (json!({ "witness_proof": member_proof("admin", &other) }), "an admin of another network"),
    ] {
        assert_eq!(rule_of(check(by_member.clone(), IN_TIME_US, extra)), "membrane_proof.witness_not_member", "{why}");
    }
    // Nobody witnesses itself in: the host hands no proof for the author's own genesis.
    let by_itself = witnessed(JOINER, JOINER, IN_TIME_US);
    assert_eq!(rule_of(check(by_itself, IN_TIME_US, json!({}))), "membrane_proof.witness_not_member");
}

#[test]
fn a_statement_for_another_agent_invite_or_network_is_refused() {
    assert_eq!(rule_of(check(witnessed(ADMIN, MEMBER, IN_TIME_US), IN_TIME_US, json!({}))), "membrane_proof.witness_agent");
    let mut other_invite = witnessed(ADMIN, JOINER, IN_TIME_US);
    other_invite["witness"]["statement"]["invite_id"] = json!("f".repeat(32));
    assert_eq!(rule_of(check(other_invite, IN_TIME_US, json!({}))), "membrane_proof.witness_invite");
    let mut other_network = witnessed(ADMIN, JOINER, IN_TIME_US);
    other_network["witness"]["statement"]["network_id"] = json!("0".repeat(64));
    assert_eq!(rule_of(check(other_network, IN_TIME_US, json!({}))), "membrane_proof.witness_network");
}

#[test]
fn a_grant_marked_witnessed_needs_a_witness_and_an_unmarked_one_keeps_the_genesis_rule() {
    let bare = json!({ "grant": grant(true), "signature": SIG });
    assert_eq!(rule_of(check(bare, IN_TIME_US, json!({}))), "membrane_proof.unwitnessed");
    // A 0.1.0 invite: judged by the genesis time, as before.
    let old = json!({ "grant": grant(false), "signature": SIG });
    assert_eq!(rule_of(check(old.clone(), IN_TIME_US, json!({}))), "valid");
    assert_eq!(rule_of(check(old, LATE_US, json!({}))), "membrane_proof.expired");
}

#[test]
fn a_statement_with_a_field_it_does_not_know_is_refused() {
    let mut extra = witnessed(ADMIN, JOINER, IN_TIME_US);
    extra["witness"]["statement"]["role"] = json!("admin");
    assert!(rule_of(check(extra, IN_TIME_US, json!({}))).starts_with("membrane_proof."));
}

// Issue 55, point 3: a witness is trusted for what the mesh holds of it, not for its role alone.
#[test]
fn a_barred_witness_counts_for_nothing() {
    let member = json!({ "grant": { "network_id": NETWORK, "role": "member", "invite_id": "f".repeat(32),
        "issued_at": ISSUED_MS, "expires_at": EXPIRES_MS, "issuer": ADMIN, "uses": 1 }, "signature": SIG });
    let by_member = witnessed(MEMBER, JOINER, IN_TIME_US);
    let ok = json!({ "witness_proof": member, "witness_barred": false });
    assert_eq!(rule_of(check(by_member.clone(), IN_TIME_US, ok)), "valid");
    let barred = json!({ "witness_proof": member, "witness_barred": true });
    assert_eq!(rule_of(check(by_member, IN_TIME_US, barred)), "membrane_proof.witness_barred");
}

#[test]
fn a_witness_cannot_have_seen_a_redemption_before_it_was_itself_admitted() {
    let member = json!({ "grant": { "network_id": NETWORK, "role": "admin", "invite_id": "f".repeat(32),
        "issued_at": ISSUED_MS, "expires_at": EXPIRES_MS, "issuer": ADMIN, "uses": 1 }, "signature": SIG });
    let by_member = witnessed(MEMBER, JOINER, IN_TIME_US);
    for (since, rule) in [(IN_TIME_US - 1, "valid"), (IN_TIME_US, "valid"), (IN_TIME_US + 1, "membrane_proof.witness_not_yet_member")] {
        let extra = json!({ "witness_proof": member, "witness_since": since });
        assert_eq!(rule_of(check(by_member.clone(), IN_TIME_US, extra)), rule, "admitted at {since}");
    }
}

// Issue 55, point 1: once sealed, a legacy grant admits the uses the seal lists and no others,
// whatever time their geneses claim.
#[test]
fn a_sealed_legacy_grant_admits_only_the_uses_listed() {
    let old = json!({ "grant": grant(false), "signature": SIG });
    // Listed: valid even past the expiry and after other uses (the seal is the admins' record of it).
    let listed = json!({ "legacy_listed": true, "prior_uses": 3 });
    assert_eq!(rule_of(check(old.clone(), LATE_US, listed)), "valid");
    // Not listed: refused however early its genesis says it was written.
    for genesis_at in [0, IN_TIME_US] {
        let extra = json!({ "legacy_listed": false });
        assert_eq!(rule_of(check(old.clone(), genesis_at, extra)), "membrane_proof.legacy_retired");
    }
    // No seal held: the 0.1.0 rule, as before.
    assert_eq!(rule_of(check(old, 0, json!({ "prior_uses": 0 }))), "valid");
}
