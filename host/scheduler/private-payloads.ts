/**
 * What this peer holds of tasks' inputs and outputs: its own tasks' inputs, the outputs given to it as
 * requester, and the outputs it produced as assignee. Kept as private `TaskPayload` entries on its own
 * chain (the mesh sees their actions only), with the newest in memory.
 */
import type { TaskPayload } from '../../zomes-bindings/index.ts'
import { payloadBytes, payloadDigest } from '../identity/payload-hash.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { ByteBoundedCache } from '../runtime/byte-bounded-cache.ts'

/** Bytes of payloads held in memory (the newest); the rest are read back from the chain. */
const HELD_IN_MEMORY_BYTES = 64 * 1024 * 1024

export class PrivatePayloads {
  readonly #conductor: Pick<ConductorPort, 'callZome'>
  readonly #held = new ByteBoundedCache<unknown>(HELD_IN_MEMORY_BYTES)

  constructor(conductor: Pick<ConductorPort, 'callZome'>) {
    this.#conductor = conductor
  }

  /** Keeps `content` (once: a payload kept before is not written again); its hash. */
  async keep(content: unknown): Promise<string> {
    const { hash, bytes } = payloadDigest(content)
    if ((await this.get(hash)) === undefined) {
      await this.#conductor.callZome('resource_mesh', 'keep_payload', {
        hash,
        content: content as TaskPayload['content'],
      })
      this.#held.set(hash, content, bytes)
    }
    return hash
  }

  /** The payload named `hash`, or undefined when this peer holds none. */
  async get(hash: string): Promise<unknown> {
    // JSON content is never undefined: undefined here means not held in memory.
    const held = this.#held.get(hash)
    if (held !== undefined) return held
    const kept = await this.#conductor.callZome('resource_mesh', 'get_payload', hash)
    if (kept === null) return undefined
    this.#held.set(hash, kept.content, payloadBytes(kept.content).length)
    return kept.content
  }
}
