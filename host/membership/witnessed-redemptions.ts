/**
 * The redemptions this member witnessed, kept in the data dir (`witnessed.jsonl`, one line each,
 * appended and synced before the statement is sent): with the geneses it holds, what it counts an
 * invite's uses against, so a burst of joiners whose geneses have not arrived yet cannot all pass, nor
 * a restart forget them. Local rather than an entry on its chain: a new entry type changes the DNA,
 * which peers of the previous release would not share (README, "Admission").
 *
 * Off the event loop both ways: the file is read as a stream at start (a line that cannot be read is
 * skipped and counted in one warning, never fatal, whatever the file grew to), and a redemption is
 * counted in memory at once (the next judgement sees it) and written by a background append, one
 * append and one sync for every redemption queued meanwhile.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../log/logger.ts'

export const WITNESSED_FILE = 'witnessed.jsonl'
/** A line longer than this is not one of ours (an entry is ~150 bytes): skipped, never buffered whole. */
const MAX_LINE_BYTES = 4096

export interface WitnessedRedemption {
  invite_id: string
  agent: string
  /** µs, this member's clock. */
  witnessed_at: number
}

interface Queued {
  entry: WitnessedRedemption
  resolve: () => void
  reject: (err: unknown) => void
}

export class WitnessedRedemptions {
  readonly #path: string
  readonly #logger: Logger | undefined
  /** Invite id → agent → when it was witnessed (µs). */
  readonly #byInvite = new Map<string, Map<string, number>>()
  #queue: Queued[] = []
  #flushing = false
  /** Resolves once the file is read; rejects when it cannot be (other than absent). */
  readonly ready: Promise<void>

  /** Starts reading the record; judge nothing before `ready` (or use `open`). */
  constructor(dataDir: string, options: { logger?: Logger } = {}) {
    this.#path = join(dataDir, WITNESSED_FILE)
    this.#logger = options.logger
    this.ready = this.#load()
    // A rejection is the caller's to see through `ready`; never an unhandled one meanwhile.
    this.ready.catch(() => {})
  }

  /** The record of `dataDir`, read. */
  static async open(dataDir: string, options: { logger?: Logger } = {}): Promise<WitnessedRedemptions> {
    const redemptions = new WitnessedRedemptions(dataDir, options)
    await redemptions.ready
    return redemptions
  }

  /** The agents this member witnessed redeeming `inviteId`. */
  agentsOf(inviteId: string): ReadonlySet<string> {
    return new Set(this.#byInvite.get(inviteId)?.keys())
  }

  /** When this member witnessed `agent` redeeming `inviteId` (µs), if it did. */
  witnessedAt(inviteId: string, agent: string): number | undefined {
    return this.#byInvite.get(inviteId)?.get(agent)
  }

  /**
   * Counts a redemption now (no other request is judged before it is counted) and resolves once it is
   * on disk; on a failed write it is forgotten again and the promise rejects (its statement is not sent).
   */
  record(entry: WitnessedRedemption): Promise<void> {
    this.#remember(entry)
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, resolve, reject })
      if (!this.#flushing) void this.#flush()
    })
  }

  async #flush(): Promise<void> {
    this.#flushing = true
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue
        this.#queue = []
        try {
          const file = await open(this.#path, 'a', 0o600)
          try {
            await file.appendFile(batch.map((q) => `${JSON.stringify(q.entry)}\n`).join(''))
            await file.datasync()
          } finally {
            await file.close()
          }
          for (const q of batch) q.resolve()
        } catch (err) {
          for (const q of batch) {
            this.#forget(q.entry)
            q.reject(err)
          }
        }
      }
    } finally {
      this.#flushing = false
    }
  }

  async #load(): Promise<void> {
    let skipped = 0
    let firstSkipped = 0
    let lineNo = 0
    /** One line, or null for one too long to be ours. */
    const take = (line: string | null) => {
      lineNo += 1
      if (line?.length === 0) return
      const entry = line === null ? null : parseLine(line)
      if (entry !== null) this.#remember(entry)
      else if (++skipped === 1) firstSkipped = lineNo
    }
    let partial = ''
    let overlong = false
    try {
      for await (const chunk of createReadStream(this.#path, {
        encoding: 'utf8',
        highWaterMark: 64 * 1024,
      })) {
        const text = chunk as string
        let start = 0
        for (;;) {
          const end = text.indexOf('\n', start)
          const piece = text.slice(start, end === -1 ? undefined : end)
          if (!overlong) partial += piece
          if (partial.length > MAX_LINE_BYTES) {
            overlong = true
            partial = ''
          }
          if (end === -1) break
          take(overlong ? null : partial)
          partial = ''
          overlong = false
          start = end + 1
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      this.#logger?.warn({ err, path: this.#path }, 'cannot read the record of witnessed redemptions')
      throw err
    }
    // A last line cut short by a crash is the one whose statement was never sent.
    if (overlong || partial.length > 0) take(overlong ? null : partial)
    if (skipped > 0) {
      this.#logger?.warn(
        { path: this.#path, skipped, first_line: firstSkipped },
        `skipped ${skipped} unreadable line(s) of ${WITNESSED_FILE} (the first at line ${firstSkipped}); the rest is counted`,
      )
    }
  }

  #remember(entry: WitnessedRedemption): void {
    const agents = this.#byInvite.get(entry.invite_id) ?? new Map<string, number>()
    if (!agents.has(entry.agent)) agents.set(entry.agent, entry.witnessed_at)
    this.#byInvite.set(entry.invite_id, agents)
  }

  #forget(entry: WitnessedRedemption): void {
    const agents = this.#byInvite.get(entry.invite_id)
    if (agents?.get(entry.agent) !== entry.witnessed_at) return
    agents.delete(entry.agent)
    if (agents.size === 0) this.#byInvite.delete(entry.invite_id)
  }
}

function parseLine(line: string): WitnessedRedemption | null {
  try {
    const entry = JSON.parse(line) as Partial<WitnessedRedemption> | null
    return typeof entry?.invite_id === 'string' &&
      typeof entry.agent === 'string' &&
      typeof entry.witnessed_at === 'number' &&
      Number.isSafeInteger(entry.witnessed_at)
      ? { invite_id: entry.invite_id, agent: entry.agent, witnessed_at: entry.witnessed_at }
      : null
  } catch {
    return null
  }
}
