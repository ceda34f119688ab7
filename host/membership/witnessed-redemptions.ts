/**
 * The redemptions this member witnessed, kept in the data dir (`witnessed.jsonl`, one line each,
 * appended and synced before the statement is sent): with the geneses it holds, what it counts an
 * invite's uses against, so a burst of joiners whose geneses have not arrived yet cannot all pass, nor
 * a restart forget them. Local rather than an entry on its chain: a new entry type changes the DNA,
 * which peers of the previous release would not share (README, "Admission").
 */
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const WITNESSED_FILE = 'witnessed.jsonl'

export interface WitnessedRedemption {
  invite_id: string
  agent: string
  /** µs, this member's clock. */
  witnessed_at: number
}

export class WitnessedRedemptions {
  readonly #path: string
  readonly #byInvite = new Map<string, Set<string>>()

  constructor(dataDir: string) {
    this.#path = join(dataDir, WITNESSED_FILE)
    let text = ''
    try {
      text = readFileSync(this.#path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    for (const line of text.split('\n')) {
      // A line cut short by a crash is the one whose statement was never sent.
      const entry = parseLine(line)
      if (entry !== null) this.#remember(entry)
    }
  }

  /** The agents this member witnessed redeeming `inviteId`. */
  agentsOf(inviteId: string): ReadonlySet<string> {
    return this.#byInvite.get(inviteId) ?? new Set()
  }

  /** Records a redemption durably (synchronously: no other request is judged before it is counted). */
  record(entry: WitnessedRedemption): void {
    appendFileSync(this.#path, `${JSON.stringify(entry)}\n`, { mode: 0o600 })
    const fd = openSync(this.#path, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    this.#remember(entry)
  }

  #remember(entry: WitnessedRedemption): void {
    const agents = this.#byInvite.get(entry.invite_id) ?? new Set()
    agents.add(entry.agent)
    this.#byInvite.set(entry.invite_id, agents)
  }
}

function parseLine(line: string): WitnessedRedemption | null {
  try {
    const entry = JSON.parse(line) as Partial<WitnessedRedemption>
    return typeof entry.invite_id === 'string' && typeof entry.agent === 'string'
      ? (entry as WitnessedRedemption)
      : null
  } catch {
    return null
  }
}
