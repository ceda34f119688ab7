/**
 * What a sharded peer runs beside chain anti-entropy (issue 57), in one place so the replicator only
 * calls it: the held-op summaries with each peer it syncs with (neighbourhood-sync.ts, `held/1.0.0`,
 * members only), the chains whose heads it compares with that peer (chain-overlap.ts), and each round
 * the churn hand-off (handoff-runner.ts). While records are not sharded it does nothing, and chain
 * anti-entropy lists every chain, as before.
 */
import type { PeerId } from '@libp2p/interface'
import { encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import { agentOfPeerB64 } from '../../../identity/peer-agent.ts'
import type { RequestResponse } from '../../../net/request-response.ts'
import type { ChainStore } from '../../../storage/chain-store.ts'
import type { Cell } from '../cell.ts'
import { chainsKeptByBoth } from './chain-overlap.ts'
import { HandoffRunner } from './handoff-runner.ts'
import { heldOpsOf } from './held-op-list.ts'
import { HELD_SYNC_PROTOCOL, NeighbourhoodSync } from './neighbourhood-sync.ts'
import type { IngestResult } from './op-ingest.ts'
import type { OpBatch } from './op-wire.ts'

export interface UpkeepInit {
  rpc: Pick<RequestResponse, 'request' | 'handle' | 'unhandle'>
  store: ChainStore
  cells: readonly Cell[]
  /** This peer's agent (HoloHashB64). */
  self: string
  /** The network file's `record.holders`. */
  holders: number
  /** record-sharding.ts's verdict now. */
  sharded: () => boolean
  /** The members placing ops now (membership.ts, less those gone: member-presence.ts). */
  members: () => string[]
  /** Warranted or revoked here. */
  barred: (agent: string) => boolean
  /** Fetched ops, to ingest as catch-up. */
  deliver: (batch: OpBatch, from: PeerId) => IngestResult | null
  /** Pushes ops held here to a new holder (the author's push path); rejects when not taken. */
  push: (to: string, dnaHash: Uint8Array, hashes: Uint8Array[]) => Promise<void>
  signal: AbortSignal
}

export class NeighbourhoodUpkeep {
  readonly #init: UpkeepInit
  readonly #sync: NeighbourhoodSync
  readonly #handoff: HandoffRunner

  constructor(init: UpkeepInit) {
    this.#init = init
    const ops = (dnaHash: Uint8Array) => heldOpsOf(init.store, this.#cell(dnaHash))
    const dnaHashes = init.cells.map((cell) => cell.dnaHash)
    this.#sync = new NeighbourhoodSync({ ...init, dnaHashes, ops })
    this.#handoff = new HandoffRunner({ ...init, dnaHashes, ops })
  }

  /** Serves `held/1.0.0` to members (the node's gate). */
  start(): Promise<void> {
    return this.#init.rpc.handle(HELD_SYNC_PROTOCOL, this.#sync.handler)
  }

  async stop(): Promise<void> {
    await this.#init.rpc.unhandle(HELD_SYNC_PROTOCOL).catch(() => {})
  }

  /** For chain anti-entropy: the chains to compare with `peer`, null (every chain) while not sharded. */
  readonly chainsWith = (peer: PeerId): ((author: Uint8Array) => boolean) | null => {
    const agent = agentOfPeerB64(peer)
    if (agent === null || !this.#init.sharded()) return null
    return chainsKeptByBoth(this.#init.members(), this.#init.holders, this.#init.self, agent)
  }

  /** After chain anti-entropy with `peer`: the held ops both should hold; the ops fetched. */
  async syncWith(peer: PeerId): Promise<number> {
    return this.#init.sharded() ? this.#sync.syncWith(peer) : 0
  }

  /** A periodic round: the hand-off of what a change of the members gives this peer to push. */
  async round(): Promise<number> {
    return this.#init.sharded() ? this.#handoff.round(this.#init.members()) : 0
  }

  #cell(dnaHash: Uint8Array): Cell {
    const cell = this.#init.cells.find((c) => hashesEqual(c.dnaHash, dnaHash))
    if (cell === undefined) throw new Error(`no cell runs DNA ${encodeHashB64(dnaHash)}`)
    return cell
  }
}
