//! agent_registry: NodeCapability (one per agent, only its author may update or delete it) and
//! Revocation (an admin withdraws an agent, or an invite not used yet; permanent) and LegacySeal (an
//! admin lists the uses of 0.1.0 invites it saw; from then on those are all a legacy grant admits).
use serde::Deserialize;
use serde_json::Value;

use crate::check::{nullable, Change, Ck, HashKind, Rules};
use crate::input::{Op, ValidationInput, Verdict};
use crate::limits::*;
use crate::membrane::author_is_admin;

pub fn rules(entry_type: &str) -> Option<Rules> {
    match entry_type {
        "NodeCapability" => Some(node_capability),
        "Revocation" => Some(revocation),
        "LegacySeal" => Some(legacy_seal),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revocation {
    #[serde(deserialize_with = "nullable")]
    agent: Option<String>,
    #[serde(deserialize_with = "nullable")]
    invite_id: Option<String>,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacySeal {
    uses: Vec<SealedUse>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedUse {
    invite_id: String,
    agent: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeCapability {
    name: String,
    hardware: Hardware,
    inference: Inference,
    storage: Storage,
    memory: Memory,
    tags: Vec<String>,
    host_version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hardware {
    cpu: Cpu,
    ram_bytes: u64,
    gpus: Vec<Gpu>,
    disk_free_bytes: u64,
    os: Os,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cpu {
    model: String,
    cores: u64,
    threads: u64,
    arch: String,
    speed_ghz: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Gpu {
    vendor: String,
    model: String,
    vram_bytes: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Os {
    platform: String,
    distro: String,
    release: String,
    kernel: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inference {
    models: Vec<ModelInfo>,
    #[serde(deserialize_with = "nullable")]
    tokens_per_second: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelInfo {
    name: String,
    file_hash: String,
    size_bytes: u64,
    #[serde(deserialize_with = "nullable")]
    parameters: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    quantisation: Option<String>,
    #[serde(deserialize_with = "nullable")]
    context_length: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    architecture: Option<String>,
    #[allow(dead_code)] // part of the shape; no rule constrains it
    loaded: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Storage {
    ipfs_free_bytes: u64,
    pinned_bytes: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Memory {
    shards_held: u64,
    capacity_bytes: u64,
}

fn node_capability(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("node_capability");
    ck.rights(input, Change::OriginalAuthor, Change::OriginalAuthor)?;
    if input.op == Op::Delete {
        return Ok(());
    }
    let c: NodeCapability = ck.parse(input.entry.as_deref())?;
    ck.line("name", &c.name, NODE_CAPABILITY_NAME)?;

    let hw = &c.hardware;
    ck.line("hardware.cpu.model", &hw.cpu.model, NODE_CAPABILITY_CPU_MODEL)?;
    ck.int("hardware.cpu.cores", hw.cpu.cores, NODE_CAPABILITY_CPU_CORES)?;
    ck.int("hardware.cpu.threads", hw.cpu.threads, NODE_CAPABILITY_CPU_THREADS)?;
    ck.rule("hardware_cpu_threads_below_cores", hw.cpu.threads >= hw.cpu.cores, || {
        format!("hardware.cpu.threads ({}) must be at least hardware.cpu.cores ({})", hw.cpu.threads, hw.cpu.cores)
    })?;
    ck.line("hardware.cpu.arch", &hw.cpu.arch, NODE_CAPABILITY_CPU_ARCH)?;
    ck.num("hardware.cpu.speed_ghz", hw.cpu.speed_ghz, NODE_CAPABILITY_CPU_SPEED_GHZ)?;
    ck.int("hardware.ram_bytes", hw.ram_bytes, NODE_CAPABILITY_RAM_BYTES)?;
    ck.count("hardware.gpus", &hw.gpus, NODE_CAPABILITY_GPUS)?;
    for gpu in &hw.gpus {
        ck.line("hardware.gpus.vendor", &gpu.vendor, NODE_CAPABILITY_GPU_VENDOR)?;
        ck.line("hardware.gpus.model", &gpu.model, NODE_CAPABILITY_GPU_MODEL)?;
        ck.int("hardware.gpus.vram_bytes", gpu.vram_bytes, BYTES)?;
    }
    ck.int("hardware.disk_free_bytes", hw.disk_free_bytes, BYTES)?;
    ck.line("hardware.os.platform", &hw.os.platform, NODE_CAPABILITY_OS_PLATFORM)?;
    ck.line("hardware.os.distro", &hw.os.distro, NODE_CAPABILITY_OS_DISTRO)?;
    ck.line("hardware.os.release", &hw.os.release, NODE_CAPABILITY_OS_RELEASE)?;
    ck.line("hardware.os.kernel", &hw.os.kernel, NODE_CAPABILITY_OS_KERNEL)?;

    let models = &c.inference.models;
    ck.count("inference.models", models, NODE_CAPABILITY_MODELS)?;
    for m in models {
        ck.line("inference.models.name", &m.name, MODEL_NAME)?;
        ck.sha256("inference.models.file_hash", &m.file_hash)?;
        ck.int("inference.models.size_bytes", m.size_bytes, BYTES)?;
        ck.opt_int("inference.models.parameters", m.parameters, BYTES)?;
        ck.opt_line("inference.models.quantisation", &m.quantisation, NODE_CAPABILITY_MODEL_QUANTISATION)?;
        ck.opt_int("inference.models.context_length", m.context_length, NODE_CAPABILITY_MODEL_CONTEXT_LENGTH)?;
        ck.opt_line("inference.models.architecture", &m.architecture, NODE_CAPABILITY_MODEL_ARCHITECTURE)?;
    }
    ck.unique("inference.models", models.iter().map(|m| m.name.as_str()))?;
    ck.opt_num("inference.tokens_per_second", c.inference.tokens_per_second, NODE_CAPABILITY_TOKENS_PER_SECOND)?;

    ck.int("storage.ipfs_free_bytes", c.storage.ipfs_free_bytes, BYTES)?;
    ck.int("storage.pinned_bytes", c.storage.pinned_bytes, BYTES)?;
    ck.int("memory.shards_held", c.memory.shards_held, NODE_CAPABILITY_SHARDS_HELD)?;
    ck.int("memory.capacity_bytes", c.memory.capacity_bytes, BYTES)?;
    ck.count("tags", &c.tags, NODE_CAPABILITY_TAGS)?;
    for tag in &c.tags {
        ck.tag("tags", tag)?;
    }
    ck.unique("tags", c.tags.iter().map(String::as_str))?;
    ck.line("host_version", &c.host_version, NODE_CAPABILITY_HOST_VERSION)
}

fn revocation(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("revocation");
    ck.rights(input, Change::Never, Change::Never)?;
    let r: Revocation = ck.parse(input.entry.as_deref())?;
    ck.rule("target", r.agent.is_some() != r.invite_id.is_some(), || {
        "a revocation names exactly one of agent and invite_id".into()
    })?;
    ck.opt_hash("agent", &r.agent, HashKind::Agent)?;
    if let Some(id) = &r.invite_id {
        let hex = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ck.format("invite_id", hex, "32 lowercase hex characters")?;
    }
    ck.prose("reason", &r.reason, REASON)?;
    let progenitor = input.properties.get("progenitor").and_then(Value::as_str);
    ck.rule("progenitor", r.agent.is_none() || r.agent.as_deref() != progenitor, || {
        "the progenitor cannot be revoked".into()
    })?;
    author_is_admin(&ck, input)
}

fn legacy_seal(input: &ValidationInput) -> Verdict {
    let ck = Ck::new("legacy_seal");
    ck.rights(input, Change::Never, Change::Never)?;
    let seal: LegacySeal = ck.parse(input.entry.as_deref())?;
    ck.count("uses", &seal.uses, LEGACY_SEAL_USES)?;
    for u in &seal.uses {
        let hex = u.invite_id.len() == 32 && u.invite_id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ck.format("uses.invite_id", hex, "32 lowercase hex characters")?;
        ck.hash("uses.agent", &u.agent, HashKind::Agent)?;
    }
    let keys: Vec<String> = seal.uses.iter().map(|u| format!("{}\n{}", u.invite_id, u.agent)).collect();
    ck.unique("uses", keys.iter().map(String::as_str))?;
    author_is_admin(&ck, input)
}
