/**
 * A task's input or output as one of its two parties reads it: kept here under its hash, or, sealed on
 * IPFS, fetched and opened with the key record kept here under that hash; out of its salted envelope
 * either way (salted-payload.ts). Opened payloads are held in
 * memory (the newest), since the requester reads an output at each visit and each view.
 */
import type { Logger } from '../log/logger.ts'
import { ByteBoundedCache } from '../runtime/byte-bounded-cache.ts'
import type { PrivatePayloads } from './private-payloads.ts'
import { unsalted } from './salted-payload.ts'
import { getSealed, type TaskPayloads } from './task-payloads.ts'

/** Bytes of opened payloads held in memory (the newest); older ones are fetched and opened again. */
const OPENED_IN_MEMORY_BYTES = 64 * 1024 * 1024
/** Longest a read waits for a sealed payload's Artifact and bytes to arrive. */
const FETCH_MS = 30_000

export class HeldPayloads {
  readonly #kept: PrivatePayloads
  readonly #ipfs: TaskPayloads | undefined
  readonly #logger: Logger
  readonly #opened = new ByteBoundedCache<Promise<unknown>>(OPENED_IN_MEMORY_BYTES)

  constructor(kept: PrivatePayloads, ipfs: TaskPayloads | undefined, logger: Logger) {
    this.#kept = kept
    this.#ipfs = ipfs
    this.#logger = logger
  }

  /** The salt of the payload kept here under `hash`; null when it is unsalted or not held. */
  async saltOf(hash: string): Promise<string | null> {
    return unsalted(await this.#kept.get(hash)).salt
  }

  /**
   * The payload named `hash` (sealed at `cid` when not null), or undefined when this peer holds
   * neither it nor its key, or it could not be fetched and opened (logged).
   */
  async get(hash: string, cid: string | null, signal?: AbortSignal): Promise<unknown> {
    const kept = await this.#kept.get(hash)
    if (kept === undefined) return undefined
    const { content: key } = unsalted(kept)
    if (cid === null) return key
    if (this.#ipfs === undefined) return undefined
    const opened = this.#opened.get(hash)
    if (opened !== undefined) return opened
    const bounded = AbortSignal.any([AbortSignal.timeout(FETCH_MS), ...(signal ? [signal] : [])])
    const sealed = getSealed(this.#ipfs, key, cid, bounded)
    const content = sealed.then(
      (got) => got.content,
      (err: unknown) => {
        this.#opened.delete(hash)
        this.#logger.warn({ err, cid }, 'a sealed task payload could not be fetched and opened')
        return undefined
      },
    )
    // Held while it is fetched too: readers at the same time share one fetch.
    this.#opened.set(hash, content, 0)
    const bytes = await sealed.then((got) => got.bytes).catch(() => 0)
    if (bytes > 0 && this.#opened.get(hash) === content) this.#opened.set(hash, content, bytes)
    return content
  }
}
