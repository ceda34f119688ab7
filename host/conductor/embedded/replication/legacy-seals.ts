/**
 * The admins' seals of 0.1.0 invites this peer holds (agent_registry `LegacySeal`, admins only by the
 * rules): loaded at start, noted as they are stored. Once one is held, a genesis on a legacy grant is a
 * member's only when a seal lists its use (rules: membrane_proof.legacy_retired; the member gate too).
 */
import type { Action } from '@holochain/client'
import type { LegacySeal } from '../../../../zomes-bindings/index.ts'
import { decodeMsgpack } from '../../../identity/canonical.ts'
import type { StoredEntry } from '../../../storage/chain-store.ts'
import type { DnaDef } from '../dna.ts'
import { ActionTypes } from '../hc-enums.ts'
import { sealedUseKey } from '../validation/agent-standing.ts'
import { entryTypeName } from '../validation/record-rules.ts'

export class LegacySeals {
  #uses: Set<string> | null = null

  /** The sealed uses (sealedUseKey), or null while no seal is held. */
  sealed(): ReadonlySet<string> | null {
    return this.#uses
  }

  add(seal: LegacySeal): void {
    this.#uses ??= new Set()
    for (const use of seal.uses) this.#uses.add(sealedUseKey(use.invite_id, use.agent))
  }

  /** Adds the seal `action` wrote, if it wrote one (a stored op, or a commit of this agent). */
  note(dna: DnaDef, action: Action, entry: StoredEntry | null): void {
    if (dna.name !== 'agent_registry' || action.type !== ActionTypes.Create || entry === null) return
    if (entryTypeName(action, dna) === 'LegacySeal') this.add(decodeMsgpack(entry.bytes) as LegacySeal)
  }
}
