//! Validation for every Ripple integrity zome: each op that writes, updates or deletes an app entry is
//! turned into the rules crate's `ValidationInput` (the JSON the embedded conductor hands the same rules
//! as wasm) and judged by `ripple_rules::validate_json`. Records the rules ask for are fetched with
//! `must_get_valid_record`, which makes Holochain retry later when one is not held yet. One source of
//! validation: the embedded conductor and Holochain run the same Rust.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hdi::prelude::*;
use ripple_rules::Outcome;
use serde_json::{json, Map, Value};

mod membrane;

/// An app entry as the contract (`zomes-bindings/`) shapes it: a JSON object whose every field the rules
/// crate checks, so the integrity zome keeps no second copy of the bounds.
pub type JsonEntry = Value;

/// Rules that keep asking for more records than this cannot converge.
const MAX_ROUNDS: usize = 8;

/// A DNA as the rules name it: its name and its app entry types in entry-index order.
pub struct DnaRules {
    pub dna: &'static str,
    pub entry_types: &'static [&'static str],
}

/// HoloHashB64, as @holochain/client and the contract write hashes.
pub fn b64<P: PrimitiveHashType>(hash: &HoloHash<P>) -> String {
    format!("u{}", URL_SAFE_NO_PAD.encode(hash.get_raw_39()))
}

fn hash_from_b64<T: HashType>(text: &str) -> ExternResult<HoloHash<T>> {
    let raw = text
        .strip_prefix('u')
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
        .ok_or_else(|| wasm_error!(WasmErrorInner::Guest(format!("not a HoloHashB64: {text}"))))?;
    HoloHash::try_from_raw_39(raw).map_err(|e| wasm_error!(WasmErrorInner::Guest(e.to_string())))
}

fn entry_json(entry: &Entry) -> ExternResult<Value> {
    match entry {
        Entry::App(AppEntryBytes(bytes)) => holochain_serialized_bytes::decode::<_, Value>(bytes.bytes())
            .map_err(|e| wasm_error!(WasmErrorInner::Serialize(e))),
        _ => Ok(Value::Null),
    }
}

impl DnaRules {
    fn entry_type_name(&self, entry_type: &EntryType) -> Option<&'static str> {
        match entry_type {
            EntryType::App(def) => self.entry_types.get(def.entry_index.0 as usize).copied(),
            _ => None,
        }
    }

    /// A record the rules depend on, named as `record-rules.ts` names it. A private entry's record fetched
    /// from another agent comes with its entry hidden: `entry` is then null.
    fn dep(&self, record: &Record) -> ExternResult<Value> {
        let action = record.action();
        let entry_type = match action.entry_type().and_then(|t| self.entry_type_name(t)) {
            Some(name) => name.to_string(),
            None => format!("{:?}", action.action_type()),
        };
        let entry = match record.entry().as_option() {
            Some(entry) => entry_json(entry)?,
            None => Value::Null,
        };
        let mut dep = json!({
            "action_hash": b64(record.action_address()),
            "author": b64(action.author()),
            "entry_type": entry_type,
            "entry": entry,
        });
        if let Action::Update(update) = action {
            dep["original_action_hash"] = json!(b64(&update.original_action_address));
        }
        Ok(dep)
    }

    fn properties() -> ExternResult<Map<String, Value>> {
        let bytes = dna_info()?.modifiers.properties;
        Ok(holochain_serialized_bytes::decode::<_, Value>(bytes.bytes())
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default())
    }

    /// Runs the rules on one entry op, fetching what they ask for, round after round.
    fn judge(&self, mut input: Value) -> ExternResult<ValidateCallbackResult> {
        input["dna"] = json!(self.dna);
        input["properties"] = Value::Object(Self::properties()?);
        let mut deps = Map::new();
        for _ in 0..MAX_ROUNDS {
            input["deps"] = Value::Object(deps.clone());
            let bytes = serde_json::to_vec(&input).map_err(|e| wasm_error!(WasmErrorInner::Guest(e.to_string())))?;
            match ripple_rules::validate_json(&bytes) {
                Outcome::Valid => return Ok(ValidateCallbackResult::Valid),
                Outcome::Invalid { rule, message, .. } => {
                    return Ok(ValidateCallbackResult::Invalid(format!("{rule}: {message}")))
                }
                Outcome::Unresolved { deps: wanted } => {
                    let new: Vec<String> = wanted.into_iter().filter(|h| !deps.contains_key(h)).collect();
                    if new.is_empty() {
                        return Ok(ValidateCallbackResult::Invalid("rules.unresolvable: the rules keep asking for the same records".into()));
                    }
                    for hash in new {
                        // Not held yet: Holochain keeps the op in limbo and validates it again later.
                        let record = must_get_valid_record(hash_from_b64(&hash)?)?;
                        deps.insert(hash, self.dep(&record)?);
                    }
                }
            }
        }
        Ok(ValidateCallbackResult::Invalid("rules.unresolvable: too many rounds of dependencies".into()))
    }

    /// The rules on the entry an action creates or updates to (a create, or an update of its original).
    fn judge_entry(&self, action: &Action, entry: &Entry) -> ExternResult<ValidateCallbackResult> {
        let Some(entry_type) = action.entry_type().and_then(|t| self.entry_type_name(t)) else {
            // The agent key and capability entries are Holochain's own.
            return Ok(ValidateCallbackResult::Valid);
        };
        let mut input = json!({
            "entry_type": entry_type,
            "author": b64(action.author()),
            "entry": entry_json(entry)?,
            "op": "create",
        });
        if let Action::Update(update) = action {
            let original = must_get_valid_record(update.original_action_address.clone())?;
            input["op"] = json!("update");
            input["original"] = self.dep(&original)?;
        }
        self.judge(input)
    }

    /// The integrity zome's `validate` callback. Every op that carries a new entry runs the entry's rules:
    /// its StoreEntry, and its StoreRecord and RegisterUpdate (their authorities serve the record and the
    /// update to readers, so an entry refused on one op must be refused on all, or a get still finds it).
    pub fn validate(&self, op: Op) -> ExternResult<ValidateCallbackResult> {
        match op {
            Op::StoreEntry(StoreEntry { action, entry }) => self.judge_entry(&action.hashed.content.into(), &entry),
            Op::RegisterUpdate(RegisterUpdate { update, new_entry: Some(entry) }) => {
                self.judge_entry(&Action::Update(update.hashed.content), &entry)
            }
            Op::RegisterDelete(RegisterDelete { delete }) => {
                let original = must_get_valid_record(delete.hashed.content.deletes_address.clone())?;
                let Some(entry_type) = original.action().entry_type().and_then(|t| self.entry_type_name(t)) else {
                    return Ok(ValidateCallbackResult::Valid);
                };
                self.judge(json!({
                    "entry_type": entry_type,
                    "op": "delete",
                    "author": b64(&delete.hashed.content.author),
                    "entry": Value::Null,
                    "original": self.dep(&original)?,
                }))
            }
            // A genesis' membrane proof, judged by its author's authorities as by its record's (below).
            Op::RegisterAgentActivity(RegisterAgentActivity { action, .. }) => match &action.hashed.content {
                Action::AgentValidationPkg(pkg) => self.validate_pkg(pkg),
                _ => Ok(ValidateCallbackResult::Valid),
            },
            // A record's action, with its entry when public. A private entry's record comes to others with
            // the entry hidden (`RecordEntry::Hidden`): only the action to judge, so it is valid without the
            // entry rules, which its author ran on its StoreEntry (never published: it alone holds it).
            Op::StoreRecord(StoreRecord { record }) => match (record.action(), record.entry().as_option()) {
                (Action::AgentValidationPkg(pkg), _) => self.validate_pkg(pkg),
                (action @ (Action::Create(_) | Action::Update(_)), Some(entry)) => self.judge_entry(action, entry),
                _ => Ok(ValidateCallbackResult::Valid),
            },
            // A link delete must name a CreateLink (hdi hands it over already fetched).
            Op::RegisterDeleteLink(_) => Ok(ValidateCallbackResult::Valid),
            _ => Ok(ValidateCallbackResult::Valid),
        }
    }
}
