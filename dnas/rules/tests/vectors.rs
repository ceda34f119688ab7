//! Runs every vector of `tests/vectors/*.json` (shared with vitest) through the rules.
use std::{fs, path::Path};

use ripple_rules::{validate_json, Outcome};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Vector {
    name: String,
    input: Value,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    outcome: String,
    rule: Option<String>,
    /// For `unresolved`: the exact hashes the rules must ask for, when given.
    deps: Option<Vec<String>>,
}

fn mismatch(expect: &Expect, got: &Outcome) -> bool {
    match got {
        Outcome::Valid => expect.outcome != "valid",
        Outcome::Invalid { rule, .. } => expect.outcome != "invalid" || expect.rule.as_ref() != Some(rule),
        Outcome::Unresolved { deps } => {
            expect.outcome != "unresolved" || expect.deps.as_ref().map_or(false, |want| want != deps)
        }
    }
}

#[test]
fn vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().map_or(false, |x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5, "one vector file per DNA in {}", dir.display());

    let (mut count, mut failures) = (0, Vec::new());
    for file in &files {
        let vectors: Vec<Vector> = serde_json::from_str(&fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for v in vectors {
            count += 1;
            let got = validate_json(&serde_json::to_vec(&v.input).unwrap());
            if mismatch(&v.expect, &got) {
                let want = format!("{} {}", v.expect.outcome, v.expect.rule.as_deref().unwrap_or(""));
                failures.push(format!("{} / {}: want {want}, got {got:?}", file.file_name().unwrap().to_string_lossy(), v.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} vectors failed:\n{}", failures.len(), failures.join("\n"));
    println!("{count} vectors passed");
}
