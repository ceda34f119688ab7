/**
 * Matching a task's requirements against what a node offers: the claim snapshot a node derives from
 * its capability, the first requirement a snapshot misses (in the order the rules check it, so the
 * host never writes a claim its peers would refuse), and, for a task nobody claims, which
 * requirements the known nodes miss.
 */
import type { ClaimSnapshot, NodeCapability, Requirements } from '../../zomes-bindings/index.ts'
import { formatBytes } from '../text/byte-size.ts'

/** The capability tag of a peer whose engine runs on the CPU (inference/engine/engine-capability.ts). */
const CPU_ENGINE_TAG = 'engine:cpu'

/** What this node offers a task: its hardware, models and tags, and its current queue. */
export function claimSnapshotOf(capability: NodeCapability, queueDepth: number): ClaimSnapshot {
  const { hardware, inference } = capability
  return {
    cores: hardware.cpu.cores,
    ram_bytes: hardware.ram_bytes,
    // llama.cpp splits a model over every GPU, so the VRAM a task can use is the sum; none when the
    // engine runs on the CPU (its GPU backends failed their self-test), so working GPUs rank first.
    vram_bytes: capability.tags.includes(CPU_ENGINE_TAG)
      ? 0
      : hardware.gpus.reduce((sum, gpu) => sum + gpu.vram_bytes, 0),
    gpu_count: hardware.gpus.length,
    models: inference.models.map((m) => m.name),
    loaded_models: inference.models.filter((m) => m.loaded).map((m) => m.name),
    tags: capability.tags,
    queue_depth: queueDepth,
  }
}

interface Check {
  /** True when the snapshot meets this requirement. */
  meets(s: ClaimSnapshot): boolean
  /** What a snapshot that misses it lacks, e.g. "4 cores, the task needs 8". */
  lack(s: ClaimSnapshot): string
  /** The nodes that miss it, e.g. "2 nodes have less than 64 GiB RAM"; `all` when every node does. */
  summary(count: number, all: boolean): string
}

const nodes = (n: number, all: boolean) => (all ? 'no node' : n === 1 ? '1 node' : `${n} nodes`)

/** Checks built per requirements (a task's, read once and held): a task is matched at every visit. */
const built = new WeakMap<Requirements, { [anyModel: string]: Check[] }>()

/**
 * The requirements of `r` as checks, in the order the rules check a claim; with `anyModel` (a kind
 * that runs on a model, for a task naming none), some model besides, which the rules do not check.
 */
function checks(r: Requirements, anyModel: boolean): Check[] {
  const held = built.get(r) ?? built.set(r, {}).get(r)!
  held[String(anyModel)] ??= buildChecks(r, anyModel)
  return held[String(anyModel)]!
}

function buildChecks(r: Requirements, anyModel: boolean): Check[] {
  const list: Check[] = [
    {
      meets: (s) => s.ram_bytes >= r.min_ram_bytes,
      lack: (s) => `${formatBytes(s.ram_bytes)} of RAM, the task needs ${formatBytes(r.min_ram_bytes)}`,
      summary: (n, all) =>
        all
          ? `no node has ${formatBytes(r.min_ram_bytes)} of RAM`
          : `${nodes(n, false)} ${n === 1 ? 'has' : 'have'} less than ${formatBytes(r.min_ram_bytes)} of RAM`,
    },
    {
      meets: (s) => s.vram_bytes >= r.min_vram_bytes,
      lack: (s) => `${formatBytes(s.vram_bytes)} of VRAM, the task needs ${formatBytes(r.min_vram_bytes)}`,
      summary: (n, all) =>
        all
          ? `no node has ${formatBytes(r.min_vram_bytes)} of VRAM`
          : `${nodes(n, false)} ${n === 1 ? 'has' : 'have'} less than ${formatBytes(r.min_vram_bytes)} of VRAM`,
    },
    {
      meets: (s) => !r.gpu || s.gpu_count > 0,
      lack: () => 'no GPU, the task needs one',
      summary: (n, all) => `${nodes(n, all)} ${all ? 'has a GPU' : n === 1 ? 'has no GPU' : 'have no GPU'}`,
    },
    {
      meets: (s) => s.cores >= r.min_cores,
      lack: (s) => `${s.cores} cores, the task needs ${r.min_cores}`,
      summary: (n, all) =>
        all
          ? `no node has ${r.min_cores} cores`
          : `${nodes(n, false)} ${n === 1 ? 'has' : 'have'} fewer than ${r.min_cores} cores`,
    },
  ]
  const model = r.model
  if (model === null && anyModel) {
    list.push({
      meets: (s) => s.models.length > 0,
      lack: () => 'no model',
      summary: (n, all) =>
        all ? 'no node has any model' : `${nodes(n, false)} ${n === 1 ? 'has' : 'have'} no model`,
    })
  }
  if (model !== null) {
    list.push({
      meets: (s) => s.models.includes(model),
      lack: () => `no model "${model}"`,
      summary: (n, all) => `${nodes(n, all)} ${all ? 'has' : n === 1 ? 'lacks' : 'lack'} model "${model}"`,
    })
  }
  for (const tag of r.tags) {
    list.push({
      meets: (s) => s.tags.includes(tag),
      lack: () => `no tag "${tag}"`,
      summary: (n, all) => `${nodes(n, all)} ${all ? 'has' : n === 1 ? 'lacks' : 'lack'} tag "${tag}"`,
    })
  }
  return list
}

/**
 * What `snapshot` lacks to run a task with `requirements`, or null when it meets them all (with
 * `anyModel`, a task of a kind that needs a model: some model too).
 */
export function unmetRequirement(
  requirements: Requirements,
  snapshot: ClaimSnapshot,
  anyModel = false,
): string | null {
  const missed = checks(requirements, anyModel).find((c) => !c.meets(snapshot))
  return missed ? missed.lack(snapshot) : null
}

/**
 * Why no known node can take a task: each requirement some node misses, with how many miss it
 * ("no node has model \"x\"; 2 nodes have less than 64.0 GiB of RAM"); null when some node meets
 * them all (then the reason lies elsewhere: no worker for the kind there, a policy, or it is busy).
 */
export function whyNoNodeQualifies(
  requirements: Requirements,
  snapshots: readonly ClaimSnapshot[],
  anyModel = false,
): string | null {
  if (snapshots.length === 0) return 'no nodes are known yet'
  const all = checks(requirements, anyModel)
  if (snapshots.some((s) => all.every((c) => c.meets(s)))) return null
  return all
    .map((check) => ({ check, missing: snapshots.filter((s) => !check.meets(s)).length }))
    .filter(({ missing }) => missing > 0)
    .map(({ check, missing }) => check.summary(missing, missing === snapshots.length))
    .join('; ')
}
