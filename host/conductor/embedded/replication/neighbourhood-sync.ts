/**
 * Anti-entropy of held ops when records are sharded (issue 57), on its own members-only protocol
 * `held/1.0.0`: not on `sync/1.0.0`, which is open to every peer of the network (a newcomer's genesis
 * arrives that way) while held ops are the members' to read; not on `record/1.0.0`, whose answers are
 * one op each under a rate sized for reads. Only a mesh whose members all state `record` 1 runs it, so a
 * peer without it is never asked. A pair compares the summaries of the ops both should hold
 * (neighbourhood-summary.ts): one root per DNA; where roots differ, the sector digests; the hashes of
 * the differing sectors the asker is missing are fetched and go through ingest as catch-up. Every
 * answer is bounded; what one exchange leaves, the next continues.
 */
import type { PeerId } from '@libp2p/interface'
import { z } from 'zod'
import { encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import { agentOfPeerB64 } from '../../../identity/peer-agent.ts'
import {
  MAX_MESSAGE_BYTES,
  type RequestHandler,
  type RequestResponse,
} from '../../../net/request-response.ts'
import type { ChainStore } from '../../../storage/chain-store.ts'
import {
  differingSectors,
  HolderPlans,
  heldByBoth,
  type PlacedOp,
  type PlannedOp,
  SECTORS,
  type Summary,
  summarize,
} from './neighbourhood-summary.ts'
import type { IngestResult } from './op-ingest.ts'
import { type OpBatch, toWireTuples, type WireOp, wireOpOf, wireOpsSchema } from './op-wire.ts'
import { bytesSchema, decodeMessage, encodeMessage } from './wire-codec.ts'

export const HELD_SYNC_PROTOCOL = 'held/1.0.0'

/** Hashes one answer lists (39 bytes each); the rest of the sectors go in the next exchange. */
const MAX_ANSWER_HASHES = 4096
/** Ops one fetch asks for, and the bytes its answer carries (the first op always goes). */
const MAX_FETCH_OPS = 256
const MAX_ANSWER_BYTES = MAX_MESSAGE_BYTES / 4
/** Ops one exchange fetches: a peer far behind catches up over a few rounds, not in one burst. */
const MAX_EXCHANGE_OPS = 2048
/** Settled listings kept (a peer and DNA each); past it they are forgotten, and listed again once. */
const MAX_SETTLED = 4096

const requestSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('roots'), dnas: z.array(z.tuple([bytesSchema, bytesSchema])).max(64) }),
  z.object({
    t: z.literal('hashes'),
    dna: bytesSchema,
    sectors: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(SECTORS - 1),
      )
      .max(SECTORS),
  }),
  z.object({ t: z.literal('ops'), dna: bytesSchema, hashes: z.array(bytesSchema).max(MAX_FETCH_OPS) }),
])
type Request = z.output<typeof requestSchema>
const rootsAnswerSchema = z.object({
  dnas: z.array(z.tuple([bytesSchema, z.array(bytesSchema).max(SECTORS)])).max(64),
})
const hashesAnswerSchema = z.object({ hashes: z.array(bytesSchema).max(MAX_ANSWER_HASHES) })
const opsAnswerSchema = z.object({ ops: wireOpsSchema })

export interface NeighbourhoodSyncInit {
  rpc: Pick<RequestResponse, 'request'>
  store: Pick<ChainStore, 'getAction' | 'getEntry' | 'writeCount'>
  /** The DNA hashes this conductor runs. */
  dnaHashes: readonly Uint8Array[]
  /** This peer's agent (HoloHashB64). */
  self: string
  /** The ops of a DNA held here, with their bases (placement's) and authors (HoloHashB64). */
  ops: (dnaHash: Uint8Array) => Iterable<PlacedOp>
  /** The members known now (membership.ts `knownMembers`). */
  members: () => readonly string[]
  /** The network file's `record.holders`. */
  holders: number
  /** Warranted or revoked here (HoloHashB64): neither served nor compared. */
  barred: (agent: string) => boolean
  /** Hands fetched ops to ingest as catch-up; null if it dropped them. */
  deliver: (batch: OpBatch, from: PeerId) => IngestResult | null
  signal: AbortSignal
}

export class NeighbourhoodSync {
  readonly #init: NeighbourhoodSyncInit
  /** Per DNA, its ops' holders as of the store's write count and the members: idle rounds plan nothing. */
  readonly #plans = new Map<
    string,
    { stamp: string; planned: PlannedOp[]; summaries: Map<string, Summary> }
  >()
  /** Per DNA, each op's holders kept while the members stay: a write plans only its own ops. */
  readonly #holderPlans = new Map<string, HolderPlans>()
  /** Per peer and DNA, the two summaries of the last listing that found nothing missing (`#settle`). */
  readonly #settled = new Map<string, string>()

  constructor(init: NeighbourhoodSyncInit) {
    this.#init = init
  }

  /** Answers a member's roots, hashes and ops requests. */
  readonly handler: RequestHandler = async (request, peer) => {
    const message = decodeMessage(requestSchema, request, 'held sync request')
    // Members only (the node's gate): the asker is an agent this peer counts as a member.
    const asker = agentOfPeerB64(peer)!
    if (message.t === 'roots') {
      const dnas = message.dnas.flatMap(([dna, root]) => {
        const ours = this.#summary(dna, asker)
        return ours === null || hashesEqual(ours.root, root) ? [] : [[dna, ours.sectors]]
      })
      return encodeMessage({ dnas })
    }
    if (message.t === 'hashes') {
      const ours = this.#summary(message.dna, asker)
      const hashes = ours === null ? [] : message.sectors.flatMap((sector) => ours.hashes[sector]!)
      return encodeMessage({ hashes: hashes.slice(0, MAX_ANSWER_HASHES) })
    }
    return encodeMessage({ ops: toWireTuples(this.#served(message.dna, message.hashes)) })
  }

  /** One exchange with `peer`: fetch the ops both should hold that it has and this peer lacks. */
  async syncWith(peer: PeerId): Promise<number> {
    // A peer not yet counted a member here (this peer just joined) still shares every everywhere op.
    const agent = agentOfPeerB64(peer)
    if (agent === null || this.#init.barred(agent)) return 0
    const roots = this.#init.dnaHashes.flatMap((dna) => {
      const ours = this.#summary(dna, agent)
      return ours === null ? [] : [[dna, ours.root]]
    })
    const answer = decodeMessage(
      rootsAnswerSchema,
      await this.#ask(peer, { t: 'roots', dnas: roots }),
      'roots',
    )
    let fetched = 0
    for (const [dna, theirs] of answer.dnas) {
      const ours = this.#summary(dna, agent)
      if (ours === null) continue
      const seen = `${agent} ${encodeHashB64(dna)}`
      const pair = `${encodeHashB64(ours.root)} ${Buffer.concat(theirs).toString('base64')}`
      if (this.#settled.get(seen) === pair) continue
      const sectors = differingSectors(ours.sectors, theirs)
      const listed = decodeMessage(
        hashesAnswerSchema,
        await this.#ask(peer, { t: 'hashes', dna, sectors }),
        'hashes answer',
      )
      const missing = listed.hashes.filter((hash) => this.#init.store.getAction(hash) === null)
      if (missing.length === 0) this.#settle(seen, pair)
      fetched += await this.#fetch(peer, dna, missing.slice(0, Math.max(0, MAX_EXCHANGE_OPS - fetched)))
    }
    return fetched
  }

  /**
   * A listing that found nothing missing here, kept by its two summaries: while neither changes, the
   * next lists the same again. What differs then is the other's to fetch, or held under a view of the
   * members the two do not share (one counts a member gone that the other does not), which 32 loaded
   * daemons kept for minutes, listing it at every exchange.
   */
  #settle(seen: string, pair: string): void {
    if (this.#settled.size >= MAX_SETTLED) this.#settled.clear()
    this.#settled.set(seen, pair)
  }

  async #fetch(peer: PeerId, dna: Uint8Array, hashes: Uint8Array[]): Promise<number> {
    let fetched = 0
    let open = hashes
    while (open.length > 0) {
      const asked = open.slice(0, MAX_FETCH_OPS)
      const answer = decodeMessage(
        opsAnswerSchema,
        await this.#ask(peer, { t: 'ops', dna, hashes: asked }),
        'ops answer',
      )
      if (answer.ops.length === 0) return fetched
      fetched += answer.ops.length
      if (this.#init.deliver({ dnaHash: dna, ops: answer.ops }, peer) === null) return fetched
      // Past the answer's byte bound: the rest of what was asked, asked again.
      open = [...asked.slice(answer.ops.length), ...open.slice(asked.length)]
    }
    return fetched
  }

  async #ask(peer: PeerId, message: { t: Request['t'] } & Record<string, unknown>): Promise<Uint8Array> {
    const { rpc, signal } = this.#init
    return rpc.request(peer, HELD_SYNC_PROTOCOL, encodeMessage(message), { signal })
  }

  /** The ops asked for, of that DNA, held here and of an author not barred, in the order asked. */
  #served(dna: Uint8Array, hashes: readonly Uint8Array[]): WireOp[] {
    const { store, barred } = this.#init
    const ops: WireOp[] = []
    let bytes = 0
    for (const hash of hashes) {
      const action = store.getAction(hash)
      if (action === null || !hashesEqual(action.dnaHash, dna) || barred(encodeHashB64(action.author)))
        continue
      const op = wireOpOf(action, action.entryHash && store.getEntry(action.entryHash))
      const size = op.action.length + op.signature.length + (op.entry?.length ?? 0)
      if (ops.length > 0 && bytes + size > MAX_ANSWER_BYTES) break
      ops.push(op)
      bytes += size
    }
    return ops
  }

  /** The summary of the ops this peer and `peer` should both hold in `dna`; null for a DNA not run here. */
  #summary(dna: Uint8Array, peer: string): Summary | null {
    const init = this.#init
    if (!init.dnaHashes.some((ours) => hashesEqual(ours, dna))) return null
    const members = [...init.members()].sort()
    const stamp = `${init.store.writeCount()} ${members.join(',')}`
    const key = encodeHashB64(dna)
    let plan = this.#plans.get(key)
    if (plan?.stamp !== stamp) {
      const ops = [...init.ops(dna)].filter((op) => !init.barred(op.author))
      const plans = this.#holderPlans.get(key) ?? new HolderPlans()
      this.#holderPlans.set(key, plans)
      plan = { stamp, planned: plans.plan(ops, members, init.holders), summaries: new Map() }
      this.#plans.set(key, plan)
    }
    let summary = plan.summaries.get(peer)
    if (summary === undefined) {
      summary = summarize(heldByBoth(plan.planned, init.self, peer))
      plan.summaries.set(peer, summary)
    }
    return summary
  }
}
