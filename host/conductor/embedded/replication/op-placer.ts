/**
 * The placement of ops on this peer now (issue 57): op-placement.ts's plan over the members this peer
 * knows (membership.ts `knownMembers`), the network's `record.holders` and whether records are sharded
 * (record-sharding.ts over those members and what they state, node.versions). The members are read
 * again when they may have changed (`membersChanged`: a genesis or a revocation stored) and at most a
 * second apart otherwise, not per op: ingest and publish place every op.
 */
import type { Action } from '@holochain/client'
import type { MeshVersions } from '../../../interface/release.ts'
import type { ChainStore } from '../../../storage/chain-store.ts'
import { decodeAction } from '../action.ts'
import type { Cell } from '../cell.ts'
import { keepReceived, type OpPlacement, opScope, type PlacementInput, placeOp } from './op-placement.ts'
import { recordsSharded } from './record-sharding.ts'

export interface OpPlacerInit {
  /** This peer's agent (HoloHashB64). */
  self: string
  store: Pick<ChainStore, 'getAction'>
  /** The members this peer counts now, itself among them (membership.ts `knownMembers`). */
  members: () => string[]
  /** The network file's `record.holders`. */
  holders: number
  versions: Pick<MeshVersions, 'everySpeaks'>
  /** Milliseconds the members read are used for at most; default MEMBERS_KEPT_MS. */
  keptMs?: number
  now?: () => number
}

export const MEMBERS_KEPT_MS = 1_000

const UNSHARDED: OpPlacement = Object.freeze({ keep: 'chain', gossip: true, pushTo: [] })

export class OpPlacer {
  readonly #init: OpPlacerInit
  #members: string[] = []
  #sharded = false
  #readAt = Number.NEGATIVE_INFINITY

  constructor(init: OpPlacerInit) {
    this.#init = init
  }

  /** Records live with their neighbourhood now. */
  get sharded(): boolean {
    this.#refresh()
    return this.#sharded
  }

  /** The members placed over now. */
  get members(): readonly string[] {
    this.#refresh()
    return this.#members
  }

  /** The members may have changed: read them again at the next placement. */
  membersChanged(): void {
    this.#readAt = Number.NEGATIVE_INFINITY
  }

  /**
   * Where the op of `action` (hash `hash`) of `cell` lives, as this peer sees the mesh now: `keep` is
   * how it keeps the op when received (op-placement.ts `keepReceived`: its plan, or held when a
   * sender's view of the members put it within VIEW_MARGIN of the holders), the rest its plan.
   */
  place(cell: Cell, action: Action, hash: Uint8Array): OpPlacement {
    if (!this.sharded) return UNSHARDED
    const input = this.#input(cell, action, hash)
    const plan = placeOp(input)
    return { ...plan, keep: keepReceived(input, plan.keep) }
  }

  #input(cell: Cell, action: Action, hash: Uint8Array): PlacementInput {
    const target = (h: Uint8Array) => {
      const held = this.#init.store.getAction(h)
      return held === null ? null : decodeAction(held.bytes)
    }
    return {
      action,
      hash,
      scope: opScope(cell.dna, action, target),
      members: this.#members,
      holders: this.#init.holders,
      self: this.#init.self,
      sharded: true,
    }
  }

  #refresh(): void {
    const now = (this.#init.now ?? Date.now)()
    if (now - this.#readAt < (this.#init.keptMs ?? MEMBERS_KEPT_MS)) return
    this.#readAt = now
    this.#members = this.#init.members()
    this.#sharded = recordsSharded({
      members: this.#members.length,
      holders: this.#init.holders,
      versions: this.#init.versions,
    })
  }
}
