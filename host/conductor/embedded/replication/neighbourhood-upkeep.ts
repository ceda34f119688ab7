/**
 * What a sharded peer runs beside chain anti-entropy (issue 57), in one place so the replicator only
 * calls it: the held-op summaries with each peer it syncs with (neighbourhood-sync.ts, `held/1.0.0`,
 * members only), the chains whose heads it compares with that peer (chain-overlap.ts), and each round
 * the churn hand-off (handoff-runner.ts). While records are not sharded it does nothing, and chain
 * anti-entropy lists every chain, as before.
 */
import type { PeerId } from '@libp2p/interface'
import { DNA_NAMES } from '../../../../zomes-bindings/index.ts'
import { encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import { agentOfPeerB64, peerIdOfAgent } from '../../../identity/peer-agent.ts'
import type { RippleNode } from '../../../net/create-node.ts'
import type { Cell } from '../cell.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { chainsKeptByBoth } from './chain-overlap.ts'
import { HandoffRunner } from './handoff-runner.ts'
import { heldOpsOf } from './held-op-list.ts'
import { MemberPresence } from './member-presence.ts'
import { HELD_SYNC_PROTOCOL, NeighbourhoodSync } from './neighbourhood-sync.ts'
import type { IngestResult } from './op-ingest.ts'
import type { OpPlacer } from './op-placer.ts'
import { MAX_PUSHED_OPS, type OpPusher } from './op-push.ts'
import { type OpBatch, wireOpOf } from './op-wire.ts'

/** Anti-entropy rounds after which a member neither connected nor heard from is counted gone. */
export const GONE_AFTER_ROUNDS = 12

export interface UpkeepInit {
  conductor: Pick<EmbeddedConductor, 'store' | 'cell' | 'agentPubKey'>
  node: Pick<RippleNode, 'rpc' | 'peers'>
  /** Where ops live now: whether sharded, over which members (those `present` keeps). */
  placer: Pick<OpPlacer, 'sharded' | 'members'>
  /** The network file's `record.holders`. */
  holders: number
  /** The period of anti-entropy rounds (ms): a member is gone after GONE_AFTER_ROUNDS of them. */
  roundMs: number
  /** Warranted or revoked here. */
  barred: (agent: string) => boolean
  /** Fetched ops, to ingest as catch-up. */
  deliver: (batch: OpBatch, from: PeerId) => IngestResult | null
  /** The author's push path (op-push.ts): false when the holder never acknowledged. */
  pusher: Pick<OpPusher, 'push'>
  signal: AbortSignal
}

export class NeighbourhoodUpkeep {
  readonly #init: UpkeepInit
  readonly #cells: Cell[]
  readonly #presence: MemberPresence
  readonly #sync: NeighbourhoodSync
  readonly #handoff: HandoffRunner
  #rounding = false

  constructor(init: UpkeepInit) {
    this.#init = init
    const { conductor, placer } = init
    const self = conductor.agentPubKey
    this.#cells = DNA_NAMES.map((dna) => conductor.cell(dna))
    this.#presence = new MemberPresence({ self, goneAfterMs: GONE_AFTER_ROUNDS * init.roundMs })
    const ops = (dnaHash: Uint8Array) => heldOpsOf(conductor.store, this.#cell(dnaHash))
    const common = { ...init, self, dnaHashes: this.#cells.map((cell) => cell.dnaHash), ops }
    const members = () => [...placer.members]
    this.#sync = new NeighbourhoodSync({ ...common, rpc: init.node.rpc, store: conductor.store, members })
    const push = (to: string, dnaHash: Uint8Array, hashes: Uint8Array[]) => this.#push(to, dnaHash, hashes)
    this.#handoff = new HandoffRunner({ ...common, push })
  }

  /** Of the members known (membership.ts), those that place ops: not gone (member-presence.ts). */
  present(known: readonly string[]): string[] {
    return this.#presence.present(known, (agent) => this.#init.node.peers.has(peerIdOfAgent(agent)))
  }

  /** Serves `held/1.0.0` to members (the node's gate). */
  start(): Promise<void> {
    return this.#init.node.rpc.handle(HELD_SYNC_PROTOCOL, this.#sync.handler)
  }

  async stop(): Promise<void> {
    await this.#init.node.rpc.unhandle(HELD_SYNC_PROTOCOL).catch(() => {})
  }

  /** For chain anti-entropy: the chains to compare with `peer`, null (every chain) while not sharded. */
  readonly chainsWith = (peer: PeerId): ((author: Uint8Array) => boolean) | null => {
    const agent = agentOfPeerB64(peer)
    const { placer, holders, conductor } = this.#init
    if (agent === null || !placer.sharded) return null
    return chainsKeptByBoth(placer.members, holders, conductor.agentPubKey, agent)
  }

  /** After chain anti-entropy with `peer`: the held ops both should hold; the ops fetched. */
  async syncWith(peer: PeerId): Promise<number> {
    return this.#init.placer.sharded ? this.#sync.syncWith(peer) : 0
  }

  /**
   * A periodic round: the hand-off of what a change of the members gives this peer to push. One at a
   * time: a push to a holder that does not answer is retried for seconds, longer than a round.
   */
  async round(): Promise<number> {
    if (this.#rounding || !this.#init.placer.sharded) return 0
    this.#rounding = true
    try {
      return await this.#handoff.round(this.#init.placer.members)
    } finally {
      this.#rounding = false
    }
  }

  /** Pushes the ops of `hashes` held here to `to`, a push's worth at a time; rejects unless all were taken. */
  async #push(to: string, dnaHash: Uint8Array, hashes: Uint8Array[]): Promise<void> {
    const { store } = this.#init.conductor
    const ops = hashes.flatMap((hash) => {
      const action = store.getAction(hash)
      return action === null ? [] : [wireOpOf(action, action.entryHash && store.getEntry(action.entryHash))]
    })
    for (let i = 0; i < ops.length; i += MAX_PUSHED_OPS) {
      const taken = await this.#init.pusher.push(to, { dnaHash, ops: ops.slice(i, i + MAX_PUSHED_OPS) })
      if (!taken) throw new Error(`${to} did not take the ops handed to it`)
    }
  }

  #cell(dnaHash: Uint8Array): Cell {
    const cell = this.#cells.find((c) => hashesEqual(c.dnaHash, dnaHash))
    if (cell === undefined) throw new Error(`no cell runs DNA ${encodeHashB64(dnaHash)}`)
    return cell
  }
}
