//! The invite as membrane proof on a real conductor, as the embedded conductor judges it
//! (host/conductor/embedded/validation/membrane-proof.ts): on a network whose properties say
//! `membrane: "invite"`, the proof's bytes are the msgpack of `{ grant, signature, witness? }`; the grant
//! must be signed (Ed25519) by its issuer and a witness statement by its witness, each over its canonical
//! msgpack (host/identity/canonical.ts), then the rules crate's `MembraneProof` rules judge what they say.
//!
//! At `genesis_self_check` only the proof itself is known: no clock, no other agent's chain. So the
//! rules get no `issuer_proof`/`witness_proof` (an invite issued or witnessed by an agent other than the
//! progenitor is refused: its issuer's or witness's own invite cannot be read there), and an unwitnessed
//! (0.1.0) grant's expiry waits for its AgentValidationPkg op, which has a timestamp. The uses of an
//! invite, revocations and seals are judged by the embedded conductor only.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hdi::prelude::*;
use serde_json::{json, Map, Number, Value};

use crate::{b64, hash_from_b64, DnaRules};

/// The entry type under which the rules judge a genesis' membrane proof (`membrane::ENTRY_TYPE`).
const ENTRY_TYPE: &str = "MembraneProof";

impl DnaRules {
    /// The integrity zome's `genesis_self_check`: the author's own conductor refuses to install the cell.
    pub fn genesis_self_check(&self, data: GenesisSelfCheckData) -> ExternResult<ValidateCallbackResult> {
        // No clock at genesis: 0 lets an unwitnessed grant's expiry through, to be judged on its op.
        self.judge_membrane(&data.agent_key, data.membrane_proof.as_deref(), 0)
    }

    /// The AgentValidationPkg of a genesis, as its authorities validate it (with the time it was written).
    pub(crate) fn validate_pkg(&self, pkg: &AgentValidationPkg) -> ExternResult<ValidateCallbackResult> {
        let genesis_at = u64::try_from(pkg.timestamp.as_micros()).unwrap_or(0);
        self.judge_membrane(&pkg.author, pkg.membrane_proof.as_deref(), genesis_at)
    }

    fn judge_membrane(
        &self,
        agent: &AgentPubKey,
        proof: Option<&SerializedBytes>,
        genesis_at: u64,
    ) -> ExternResult<ValidateCallbackResult> {
        if Self::properties()?.get("membrane").and_then(Value::as_str) != Some("invite") {
            return Ok(ValidateCallbackResult::Valid);
        }
        let proof = match proof {
            None => Value::Null,
            Some(bytes) => match signed_proof(bytes.bytes())? {
                Ok(proof) => proof,
                Err(refusal) => return Ok(ValidateCallbackResult::Invalid(refusal.into())),
            },
        };
        self.judge(json!({
            "entry_type": ENTRY_TYPE,
            "op": "create",
            "author": b64(agent),
            "entry": { "proof": proof, "genesis_at": genesis_at },
        }))
    }
}

/// The proof, once its grant's and its witness's signatures verified; Err with the refusal otherwise
/// (the rule ids and words of membrane-proof.ts).
fn signed_proof(bytes: &[u8]) -> ExternResult<Result<Value, &'static str>> {
    let proof = holochain_serialized_bytes::decode::<_, Value>(bytes).unwrap_or(Value::Null);
    let grant = &proof["grant"];
    if !signed_by(&grant["issuer"], grant, &proof["signature"])? {
        return Ok(Err("sys.membrane_proof: the membrane proof is not a grant signed by its issuer"));
    }
    let witness = &proof["witness"];
    if !witness.is_null() && !signed_by(&witness["statement"]["witness"], &witness["statement"], &witness["signature"])? {
        return Ok(Err("sys.membrane_witness: the witness statement of the membrane proof is not signed by its witness"));
    }
    Ok(Ok(proof))
}

/// True when `signature` (base64) is `agent`'s (a HoloHashB64) Ed25519 signature of `value`'s canonical msgpack.
fn signed_by(agent: &Value, value: &Value, signature: &Value) -> ExternResult<bool> {
    let (Some(agent), Some(signature)) = (agent.as_str(), signature.as_str()) else { return Ok(false) };
    let Ok(agent) = hash_from_b64::<hash_type::Agent>(agent) else { return Ok(false) };
    let Some(signature) = STANDARD.decode(signature).ok().and_then(|s| <[u8; 64]>::try_from(s).ok()) else {
        return Ok(false);
    };
    let mut bytes = Vec::new();
    canonical_msgpack(value, &mut bytes);
    verify_signature_raw(agent, Signature::from(signature), bytes)
}

/// `value` as host/identity/canonical.ts encodes it (@msgpack/msgpack with `sortKeys`): the smallest
/// headers, map keys sorted as JavaScript sorts strings (UTF-16 code units), every number that is a safe
/// integer as an integer and any other as a float64.
fn canonical_msgpack(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => number(n, out),
        Value::String(s) => {
            let len = s.len();
            if len < 32 {
                out.push(0xa0 | len as u8);
            } else if len < 0x100 {
                out.extend([0xd9, len as u8]);
            } else {
                header(out, len, [0xda, 0xdb]);
            }
            out.extend(s.as_bytes());
        }
        Value::Array(items) => {
            if items.len() < 16 {
                out.push(0x90 | items.len() as u8);
            } else {
                header(out, items.len(), [0xdc, 0xdd]);
            }
            items.iter().for_each(|item| canonical_msgpack(item, out));
        }
        Value::Object(map) => canonical_map(map, out),
    }
}

fn canonical_map(map: &Map<String, Value>, out: &mut Vec<u8>) {
    if map.len() < 16 {
        out.push(0x80 | map.len() as u8);
    } else {
        header(out, map.len(), [0xde, 0xdf]);
    }
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    for key in keys {
        canonical_msgpack(&Value::String(key.clone()), out);
        canonical_msgpack(&map[key], out);
    }
}

/// A 16- or 32-bit length after its marker.
fn header(out: &mut Vec<u8>, len: usize, [m16, m32]: [u8; 2]) {
    if len < 0x10000 {
        out.push(m16);
        out.extend((len as u16).to_be_bytes());
    } else {
        out.push(m32);
        out.extend((len as u32).to_be_bytes());
    }
}

/// JavaScript's Number.MAX_SAFE_INTEGER.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn number(n: &Number, out: &mut Vec<u8>) {
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.fract() != 0.0 || f.abs() > MAX_SAFE {
        out.push(0xcb);
        out.extend(f.to_be_bytes());
        return;
    }
    let i = f as i64;
    match i {
        0..=0x7f => out.push(i as u8),
        0x80..=0xff => out.extend([0xcc, i as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend((i as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend((i as u32).to_be_bytes());
        }
        0x1_0000_0000.. => {
            out.push(0xcf);
            out.extend((i as u64).to_be_bytes());
        }
        -0x20..=-1 => out.push(i as i8 as u8),
        -0x80..=-0x21 => out.extend([0xd0, i as i8 as u8]),
        -0x8000..=-0x81 => {
            out.push(0xd1);
            out.extend((i as i16).to_be_bytes());
        }
        -0x8000_0000..=-0x8001 => {
            out.push(0xd2);
            out.extend((i as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend(i.to_be_bytes());
        }
    }
}
