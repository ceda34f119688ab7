/**
 * What a sharded peer runs beside chain anti-entropy (issue 57), in one place so the replicator only
 * calls it: the held-op summaries with each peer it syncs with (neighbourhood-sync.ts, `held/1.0.0`,
 * members only), the chains whose heads it compares with that peer (chain-overlap.ts), and each round
 * the churn hand-off (handoff-runner.ts) over the members present (member-presence.ts: gone only once a
 * push or an exchange to it failed and a dial after it too). While records are not sharded it does
 * nothing, and chain anti-entropy lists every chain, as before.
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
import { closestMembers, placeMembers, placeOfAgent } from './op-holders.ts'
import type { IngestResult } from './op-ingest.ts'
import type { OpPlacer } from './op-placer.ts'
import { MAX_PUSHED_OPS, type OpPusher, PUSH_RETRY_DELAYS_MS } from './op-push.ts'
import { type OpBatch, wireOpOf } from './op-wire.ts'

/** How long a dial to a suspect member may take before it counts as failed (ms). */
export const PRESENCE_DIAL_TIMEOUT_MS = 5_000
/** Neighbours (the members closest to this peer, times R) visited in turn, one a round, when not connected. */
export const NEIGHBOURS_PER_HOLDER = 2
/**
 * At most how long after its pushes start failing a member is counted gone (ms, plus a round and the
 * placer's second): the push's retries, then the dial at the next round.
 */
export const GONE_WITHIN_MS = PUSH_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) + PRESENCE_DIAL_TIMEOUT_MS

export interface UpkeepInit {
  conductor: Pick<EmbeddedConductor, 'store' | 'cell' | 'agentPubKey'>
  node: Pick<RippleNode, 'rpc' | 'peers' | 'libp2p'>
  /** Where ops live now: whether sharded, over which members (those `present` keeps). */
  placer: Pick<OpPlacer, 'sharded' | 'members'>
  /** The network file's `record.holders`. */
  holders: number
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
  /** Which neighbour the next round visits. */
  #turn = 0
  /** The author's push path, each outcome told to presence: a failed push makes its holder a suspect. */
  readonly pusher: Pick<OpPusher, 'push'>

  constructor(init: UpkeepInit) {
    this.#init = init
    const { conductor, placer } = init
    const self = conductor.agentPubKey
    this.#cells = DNA_NAMES.map((dna) => conductor.cell(dna))
    this.#presence = new MemberPresence({ self, dial: (agent) => this.#dial(agent) })
    this.pusher = {
      push: async (agent, batch) => {
        const taken = await init.pusher.push(agent, batch)
        if (taken) this.#presence.saw(agent)
        else this.#presence.failed(agent)
        return taken
      },
    }
    const ops = (dnaHash: Uint8Array) => heldOpsOf(conductor.store, this.#cell(dnaHash))
    const common = { ...init, self, dnaHashes: this.#cells.map((cell) => cell.dnaHash), ops }
    const members = () => [...placer.members]
    this.#sync = new NeighbourhoodSync({ ...common, rpc: init.node.rpc, store: conductor.store, members })
    const push = (to: string, dnaHash: Uint8Array, hashes: Uint8Array[]) => this.#push(to, dnaHash, hashes)
    this.#handoff = new HandoffRunner({ ...common, push })
  }

  /** Of the members known (membership.ts), those that place ops: not gone (member-presence.ts). */
  present(known: readonly string[]): string[] {
    return this.#presence.present(known, this.#connected)
  }

  /** Something arrived from `peer` (a batch of ops, an answer): it is about. */
  saw(peer: PeerId): void {
    const agent = agentOfPeerB64(peer)
    if (agent !== null) this.#presence.saw(agent)
  }

  /** Serves `held/1.0.0` to members (the node's gate); upkeep, like chain anti-entropy (no use of a peer). */
  start(): Promise<void> {
    return this.#init.node.rpc.handle(HELD_SYNC_PROTOCOL, this.#sync.handler, { use: 'upkeep' })
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
    if (!this.#init.placer.sharded) return 0
    try {
      const fetched = await this.#sync.syncWith(peer)
      this.saw(peer)
      return fetched
    } catch (err) {
      const agent = agentOfPeerB64(peer)
      if (agent !== null) this.#presence.failed(agent)
      throw err
    }
  }

  /**
   * A periodic round: suspects dialled (gone or not), then the hand-off of what a change of the members
   * gives this peer to push. One at a time: a push to a holder that does not answer is retried for
   * seconds, longer than a round.
   */
  async round(): Promise<number> {
    if (this.#rounding || !this.#init.placer.sharded) return 0
    this.#rounding = true
    try {
      await this.#presence.check(this.#connected)
      await this.#visitNeighbour()
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
      const taken = await this.pusher.push(to, { dnaHash, ops: ops.slice(i, i + MAX_PUSHED_OPS) })
      if (!taken) throw new Error(`${to} did not take the ops handed to it`)
    }
  }

  /**
   * A visit to the next of this peer's neighbours, when not connected (a connected one is synced by the
   * anti-entropy rounds already): where no op is written, this is the use that finds a neighbour gone
   * (the dial fails, then the presence check's), so its ops are handed off; one a round. The dial is
   * the visit: the exchange runs as the connection opens (replicator.ts, `peer-syncs.ts`: not again
   * within a minute of the last). Exchanging here too ran a third at each visit.
   */
  async #visitNeighbour(): Promise<void> {
    const { placer, holders, conductor } = this.#init
    const self = conductor.agentPubKey
    const others = placeMembers(placer.members.filter((agent) => agent !== self))
    const near = closestMembers(placeOfAgent(self), others, NEIGHBOURS_PER_HOLDER * holders)
    const agent = near[this.#turn++ % Math.max(1, near.length)]
    if (agent === undefined || this.#connected(agent)) return
    if (await this.#dial(agent).catch(() => false)) this.#presence.saw(agent)
    else this.#presence.failed(agent)
  }

  readonly #connected = (agent: string): boolean => this.#init.node.peers.has(peerIdOfAgent(agent))

  async #dial(agent: string): Promise<boolean> {
    // The node's stop ends its dials: a timeout alone adds no listener to the upkeep's signal per dial.
    await this.#init.node.libp2p.dial(peerIdOfAgent(agent), {
      signal: AbortSignal.timeout(PRESENCE_DIAL_TIMEOUT_MS),
    })
    return true
  }

  #cell(dnaHash: Uint8Array): Cell {
    const cell = this.#cells.find((c) => hashesEqual(c.dnaHash, dnaHash))
    if (cell === undefined) throw new Error(`no cell runs DNA ${encodeHashB64(dnaHash)}`)
    return cell
  }
}
