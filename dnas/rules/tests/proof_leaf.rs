//! A refusal of a runner's proof names the leaf it refused (`Outcome::Invalid.leaf`), so a requester drops
//! that proof alone and never searches a message's text; every other refusal of a `ServedLeaves` names none.
//! Over the shared vectors (`tests/vectors/resource_mesh.json`).
use std::{fs, path::Path};

use ripple_rules::{validate_json, Outcome};
use serde_json::Value;

/// The rules that judge what the runner gave: its proof against its batch, and the proof's own fields.
const OF_THE_RUNNER: [&str; 9] = [
    "batch_type",
    "runner_is_batch_author",
    "proof_count_mismatch",
    "leaf_request_mismatch",
    "leaf_model_mismatch",
    "proof_invalid",
    "answer_status_mismatch",
    "output_mismatch",
    "leaf_order",
];

fn of_the_runner(rule: &str) -> bool {
    let name = rule.strip_prefix("served_leaves.").unwrap_or(rule);
    OF_THE_RUNNER.contains(&name) || name.starts_with("leaves_proof_")
}

#[test]
fn a_refused_proof_names_its_leaf_and_nothing_else_does() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/resource_mesh.json");
    let vectors: Vec<Value> = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
    let (mut named, mut unnamed) = (0, 0);
    for v in vectors.iter().filter(|v| v["input"]["entry_type"] == "ServedLeaves") {
        let name = v["name"].as_str().unwrap();
        let (rule, leaf) = match validate_json(&serde_json::to_vec(&v["input"]).unwrap()) {
            Outcome::Invalid { rule, leaf, .. } => (rule, leaf),
            _ => continue,
        };
        if of_the_runner(&rule) {
            let index = leaf.unwrap_or_else(|| panic!("{name}: {rule} names no leaf")) as usize;
            let refused = &v["input"]["entry"]["leaves"][index];
            assert!(!refused["proof"].is_null(), "{name}: leaf {index} has no proof to refuse");
            named += 1;
        } else {
            assert_eq!(leaf, None, "{name}: {rule} is not about a runner's proof");
            unnamed += 1;
        }
    }
    assert!(named >= 15 && unnamed >= 10, "{named} refusals of a proof, {unnamed} others");
}

#[test]
fn an_outcome_without_a_leaf_serialises_as_before() {
    let text = serde_json::to_string(&ripple_rules::invalid("x.y", "z")).unwrap();
    assert_eq!(text, r#"{"outcome":"invalid","rule":"x.y","message":"z"}"#);
}
