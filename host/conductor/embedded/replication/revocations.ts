/**
 * The revocations a peer holds (agent_registry `Revocation` entries, which the rules admit from admins
 * only), as replication enforces them. An agent revoked by name, or through the invite its genesis
 * carried, has every op it authored from the revocation's time on refused; what it wrote before still
 * replicates, so the chains that build on it (a receipt of its result) stay whole for late joiners.
 * An invite revoked before anyone used it bars the genesis of whoever joins with it later.
 */
import type { Action } from '@holochain/client'
import type { Revocation } from '../../../../zomes-bindings/index.ts'
import { decodeMsgpack } from '../../../identity/canonical.ts'
import type { StoredEntry } from '../../../storage/chain-store.ts'
import type { DnaDef } from '../dna.ts'
import { ActionTypes } from '../hc-enums.ts'
import { entryTypeName } from '../validation/record-rules.ts'

export class RevocationList {
  /** Agent (HoloHashB64) -> from when its ops are refused (µs). */
  readonly #agents = new Map<string, number>()
  /** Invite id -> from when agents that joined with it are refused (µs). */
  readonly #invites = new Map<string, number>()

  get size(): number {
    return this.#agents.size + this.#invites.size
  }

  /** Records a revocation written at `at` (µs); true when it revokes something not revoked as early before. */
  add(revocation: Pick<Revocation, 'agent' | 'invite_id'>, at: number): boolean {
    const [map, key] =
      revocation.agent !== null ? [this.#agents, revocation.agent] : [this.#invites, revocation.invite_id!]
    const known = map.get(key)
    if (known !== undefined && known <= at) return false
    map.set(key, at)
    return true
  }

  /** The agents revoked by name. */
  agents(): string[] {
    return [...this.#agents.keys()]
  }

  /**
   * From when (µs) the ops of `agent`, whose genesis carried invite `inviteId` (null: none or not
   * known), are refused; null when they never are.
   */
  since(agent: string, inviteId: string | null): number | null {
    const times = [this.#agents.get(agent), inviteId === null ? undefined : this.#invites.get(inviteId)]
    const known = times.filter((t): t is number => t !== undefined)
    return known.length === 0 ? null : Math.min(...known)
  }

  /** True when an op `agent` authored at `timestamp` (µs) is refused. */
  refuses(agent: string, inviteId: string | null, timestamp: number): boolean {
    const since = this.since(agent, inviteId)
    return since !== null && timestamp >= since
  }
}

/** The Revocation an agent_registry action wrote, or null when it wrote none. */
export function revocationWritten(dna: DnaDef, action: Action, entry: StoredEntry | null): Revocation | null {
  if (dna.name !== 'agent_registry' || action.type !== ActionTypes.Create || entry === null) return null
  return entryTypeName(action, dna) === 'Revocation' ? (decodeMsgpack(entry.bytes) as Revocation) : null
}
