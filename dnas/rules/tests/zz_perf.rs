#[test]
fn perf() {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/agent_registry.json")).unwrap()).unwrap();
    let s = serde_json::to_vec(&v[0]["input"]).unwrap();
    let mut bad = v[0]["input"].clone(); bad["dna"] = "x".into();
    let b = serde_json::to_vec(&bad).unwrap();
    for (label, s) in [("cap", &s), ("bad", &b)] {
        let t = std::time::Instant::now();
        for _ in 0..20000 { ripple_rules::validate_json(s); }
        println!("{label} {:?}/op", t.elapsed() / 20000);
    }
}
