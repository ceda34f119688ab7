/**
 * What this peer holds of tasks' inputs and outputs: its own tasks' inputs, the outputs given to it as
 * requester, and the outputs it produced as assignee. Kept as private `TaskPayload` entries on its own
 * chain (the mesh sees their actions only), with the newest in memory.
 */
import type { TaskPayload } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { payloadHash } from './payload-hash.ts'

/** Payloads held in memory (64 KiB at most each); the rest are read back from the chain. */
const HELD_IN_MEMORY = 512

export class PrivatePayloads {
  readonly #conductor: Pick<ConductorPort, 'callZome'>
  readonly #held = new Map<string, unknown>()

  constructor(conductor: Pick<ConductorPort, 'callZome'>) {
    this.#conductor = conductor
  }

  /** Keeps `content` (once: a payload kept before is not written again); its hash. */
  async keep(content: unknown): Promise<string> {
    const hash = payloadHash(content)
    if ((await this.get(hash)) === undefined) {
      await this.#conductor.callZome('resource_mesh', 'keep_payload', {
        hash,
        content: content as TaskPayload['content'],
      })
      this.#remember(hash, content)
    }
    return hash
  }

  /** The payload named `hash`, or undefined when this peer holds none. */
  async get(hash: string): Promise<unknown> {
    if (this.#held.has(hash)) return this.#held.get(hash)
    const kept = await this.#conductor.callZome('resource_mesh', 'get_payload', hash)
    if (kept === null) return undefined
    this.#remember(hash, kept.content)
    return kept.content
  }

  #remember(hash: string, content: unknown): void {
    this.#held.delete(hash)
    this.#held.set(hash, content)
    if (this.#held.size > HELD_IN_MEMORY) this.#held.delete(this.#held.keys().next().value!)
  }
}
