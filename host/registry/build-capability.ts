/**
 * Assembles this peer's `NodeCapability` from what the host measured, and checks it against the
 * contract before it is advertised, so a bad value is caught here with a readable error instead
 * of coming back as a rules rejection.
 */
import {
  type Hardware,
  LIMITS,
  type ModelInfo,
  ModelInfoSchema,
  type NodeCapability,
  NodeCapabilitySchema,
} from '../../zomes-bindings/index.ts'
import type { ListedModel } from '../inference/model-manager.ts'
import type { Logger } from '../log/logger.ts'

export interface CapabilityFacts {
  name: string
  tags: readonly string[]
  hardware: Hardware
  models: readonly ListedModel[]
  hostVersion: string
  /** Memory shards this peer holds, ready or catching up (0 without the shared memory). */
  shardsHeld?: number
  /** Bytes the shared memory may use here (`--memory-max-size`); 0 (the default) holds no shards. */
  memoryCapacityBytes?: number
  /** The engine's measured decode rate on this peer (tokens/s); null until it generated. */
  tokensPerSecond?: number | null
}

/** Thrown when what the host measured does not fit the contract (a bug, or a very odd machine). */
export class InvalidCapabilityError extends Error {
  static override readonly name = 'InvalidCapabilityError'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidCapabilityError'
  }
}

export function buildCapability(facts: CapabilityFacts, logger: Logger): NodeCapability {
  const candidate = {
    name: facts.name,
    hardware: facts.hardware,
    inference: {
      models: advertisableModels(facts.models, logger),
      tokens_per_second: facts.tokensPerSecond ?? null,
    },
    // This host runs no IPFS store yet: it offers none.
    storage: { ipfs_free_bytes: 0, pinned_bytes: 0 },
    memory: { shards_held: facts.shardsHeld ?? 0, capacity_bytes: facts.memoryCapacityBytes ?? 0 },
    tags: [...facts.tags],
    host_version: facts.hostVersion,
  }
  const parsed = NodeCapabilitySchema.safeParse(candidate)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new InvalidCapabilityError(`capability does not fit the contract: ${issues.join('; ')}`)
  }
  return parsed.data
}

/** Models the contract can carry: a model that does not fit (e.g. a 200-character file name) is skipped with a warning. */
function advertisableModels(models: readonly ListedModel[], logger: Logger): ModelInfo[] {
  const out: ModelInfo[] = []
  for (const model of models) {
    if (out.some((m) => m.name === model.name)) {
      logger.warn({ path: model.path }, 'a model with the same name is already advertised; skipping this one')
      continue
    }
    const parsed = ModelInfoSchema.safeParse(modelInfo(model))
    if (!parsed.success) {
      logger.warn(
        { path: model.path, issues: parsed.error.issues },
        'model cannot be advertised; skipping it',
      )
      continue
    }
    if (out.length === LIMITS.node_capability.models.max) {
      logger.warn({ path: model.path }, `only ${out.length} models can be advertised; skipping the rest`)
      break
    }
    out.push(parsed.data)
  }
  return out
}

/** A model of the models directory as a capability describes it (not yet checked against the contract). */
export function modelInfo(model: ListedModel): ModelInfo {
  return {
    name: model.name,
    file_hash: model.sha256,
    size_bytes: model.size_bytes,
    parameters: model.parameters,
    quantisation: model.quantisation,
    context_length: model.context_length,
    architecture: model.architecture,
    loaded: model.loaded,
  }
}
