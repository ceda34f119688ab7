/**
 * Anti-entropy: a peer asks another for the head of every chain it holds, per DNA ({author -> seq,
 * hash}), then for the missing suffix of each chain where the other is ahead, from its own head + 1,
 * so nothing already held is fetched. The asker sends a digest of its own heads per DNA, and a DNA
 * whose heads are the same on both sides is left out of the answer: an idle mesh's rounds carry a few
 * hashes, not every chain's head (n of them, on each of n peers). When to run it (on connect,
 * periodically, when an op arrives too early) is the replicator's call. Chains of warranted authors are neither listed, served, nor
 * asked for: their ops do not spread from here. When records are sharded, a pair lists and asks only
 * the chains both keep as chains (`chainsWith`, chain-overlap.ts) and every other chain's genesis; the
 * rest is compared by summaries (neighbourhood-sync.ts).
 */
import { createHash } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'
import { z } from 'zod'
import { encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import {
  MAX_MESSAGE_BYTES,
  type RequestHandler,
  type RequestResponse,
} from '../../../net/request-response.ts'
import type { ChainStore } from '../../../storage/chain-store.ts'
import { chainKey } from './chain-key.ts'
import type { IngestResult, OpIngest } from './op-ingest.ts'
import { type OpBatch, toWireTuples, type WireOp, wireOpOf, wireOpsSchema } from './op-wire.ts'
import { bytesSchema, decodeMessage, encodeMessage } from './wire-codec.ts'

export const SYNC_PROTOCOL = 'sync/1.0.0'

/** One answer stays well under request-response's frame limit; `more` says to ask again. */
const MAX_ANSWER_BYTES = MAX_MESSAGE_BYTES / 4
const MAX_ANSWER_OPS = 512
/** Rounds of asking for more in one exchange; the next exchange continues where this one stopped. */
const MAX_ROUNDS = 64

const requestSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('heads'),
    dnas: z.array(bytesSchema).max(64),
    /** Per DNA, the asker's digest of its own heads (`headsDigest`); absent from earlier versions. */
    digests: z
      .array(z.tuple([bytesSchema, bytesSchema]))
      .max(64)
      .optional(),
  }),
  z.object({
    t: z.literal('ops'),
    dna: bytesSchema,
    wants: z.array(z.tuple([bytesSchema, z.number().int().min(0)])).max(100_000),
  }),
])
const headsAnswerSchema = z.object({
  dnas: z
    .array(
      z.tuple([
        bytesSchema,
        z.array(z.tuple([bytesSchema, z.number().int().min(0), bytesSchema])).max(100_000),
      ]),
    )
    .max(64),
})
const opsAnswerSchema = z.object({
  chains: z.array(z.tuple([bytesSchema, wireOpsSchema])),
  more: z.boolean(),
})

type HeadTuple = [author: Uint8Array, seq: number, hash: Uint8Array]

/** A suffix of one chain to fetch: from `fromSeq` up to the other peer's head, `toSeq`. */
interface Want {
  author: Uint8Array
  fromSeq: number
  toSeq: number
}

export interface AntiEntropyInit {
  rpc: RequestResponse
  store: ChainStore
  ingest: OpIngest
  /** The DNA hashes this conductor runs. */
  dnaHashes: readonly Uint8Array[]
  self: Uint8Array
  /** Hands fetched ops to the pipeline (the replicator counts them); null if it dropped them. */
  deliver: (batch: OpBatch, from: PeerId) => IngestResult | null
  /** Aborts requests in flight when replication stops. */
  signal: AbortSignal
  /**
   * When sharded, the chains this peer and `peer` both keep (chain-overlap.ts); null: every chain.
   * Of the others, only their genesis is listed and served.
   */
  chainsWith?: (peer: PeerId) => Shared
}

export class AntiEntropy {
  readonly #init: AntiEntropyInit
  /** Chains being fetched now, so two peers are never asked for the same ops at once. */
  readonly #fetching = new Set<string>()
  /**
   * Per DNA, its heads and their digest as of the store's write count: an idle mesh's rounds ask and
   * answer them again and again, and reading n chains' heads each time grows with the mesh.
   */
  readonly #headsCache = new Map<string, HeadsOf>()

  constructor(init: AntiEntropyInit) {
    this.#init = init
  }

  /** Answers peers' `heads` and `ops` requests from the store. */
  readonly handler: RequestHandler = async (request, peer) => {
    const message = decodeMessage(requestSchema, request, 'sync request')
    if (message.t === 'heads') {
      const theirs = new Map((message.digests ?? []).map(([dna, digest]) => [encodeHashB64(dna), digest]))
      const dnas = this.#heads(message.dnas, this.#init.chainsWith?.(peer) ?? null)
        .filter(({ dna, digest }) => {
          const their = theirs.get(encodeHashB64(dna))
          return their === undefined || !hashesEqual(their, digest)
        })
        .map(({ dna, heads }) => [dna, heads])
      return encodeMessage({ dnas })
    }
    return encodeMessage(this.#ops(message.dna, message.wants, this.#init.chainsWith?.(peer) ?? null))
  }

  /** One exchange with `peer`: fetch every chain suffix it holds that this peer lacks. */
  async syncWith(peer: PeerId): Promise<void> {
    const { rpc, signal } = this.#init
    const ours = this.#init.dnaHashes
    const shared = this.#init.chainsWith?.(peer) ?? null
    const digests = this.#heads([...ours], shared).map(({ dna, digest }) => [dna, digest])
    const request = encodeMessage({ t: 'heads', dnas: ours, digests })
    const answer = await rpc.request(peer, SYNC_PROTOCOL, request, { signal, openToNetwork: true })
    const { dnas } = decodeMessage(headsAnswerSchema, answer, 'heads answer')
    for (const [dnaHash, heads] of dnas) {
      if (this.#init.ingest.cellOf(dnaHash) === undefined) continue
      const wants = this.#wants(dnaHash, heads).filter(
        (want) => want.toSeq <= reach(shared, want.author) && this.#claim(dnaHash, want.author),
      )
      try {
        await this.#fetch(peer, dnaHash, wants)
      } finally {
        for (const want of wants) this.#fetching.delete(chainKey(dnaHash, want.author))
      }
    }
  }

  /** The heads of the chains as far as both keep them (`reach`), with their digest. */
  #heads(
    dnaHashes: Uint8Array[],
    shared: Shared,
  ): { dna: Uint8Array; heads: HeadTuple[]; digest: Uint8Array }[] {
    const all = this.#allHeads(dnaHashes)
    if (shared === null) return all
    return all.map(({ dna, heads, genesisEnds }) => {
      const kept = heads.flatMap((head): HeadTuple[] => {
        const [author, seq] = head
        if (seq <= reach(shared, author)) return [head]
        // Read once per head while the store is unchanged: most chains are no chain of the peer's.
        let end = genesisEnds.get(head)
        if (end === undefined) {
          const at = this.#init.store.actionAt(dna, author, GENESIS_LAST_SEQ)
          end = at === null ? null : [author, GENESIS_LAST_SEQ, at.hash]
          genesisEnds.set(head, end)
        }
        return end === null ? [] : [end]
      })
      return { dna, heads: kept, digest: headsDigest(kept) }
    })
  }

  #allHeads(dnaHashes: Uint8Array[]): ({ dna: Uint8Array } & HeadsOf)[] {
    const { store, ingest } = this.#init
    const writes = store.writeCount()
    return dnaHashes
      .filter((dnaHash) => ingest.cellOf(dnaHash) !== undefined)
      .map((dna) => {
        const key = encodeHashB64(dna)
        const cached = this.#headsCache.get(key)
        if (cached?.writes === writes) return { dna, ...cached }
        // A warrant is a write too, so the warranted authors left out here change with the count.
        const heads = store
          .chainHeads(dna)
          .filter((head) => !ingest.isWarranted(head.author))
          .map((head): HeadTuple => [head.author, head.seq, head.hash])
        const fresh = { writes, heads, digest: headsDigest(heads), genesisEnds: new Map() }
        this.#headsCache.set(key, fresh)
        return { dna, ...fresh }
      })
  }

  #ops(
    dnaHash: Uint8Array,
    wants: [Uint8Array, number][],
    shared: Shared,
  ): { chains: unknown[]; more: boolean } {
    const { store, ingest } = this.#init
    const chains: [Uint8Array, ReturnType<typeof toWireTuples>][] = []
    if (ingest.cellOf(dnaHash) === undefined) return { chains, more: false }
    let ops = 0
    let bytes = 0
    for (const [author, fromSeq] of wants) {
      if (ingest.isWarranted(author)) continue
      const chain: WireOp[] = []
      const limit = Math.min(MAX_ANSWER_OPS - ops, reach(shared, author) - fromSeq + 1)
      for (const action of limit > 0 ? store.chainRange(dnaHash, author, fromSeq, limit) : []) {
        const entry = action.entryHash && store.getEntry(action.entryHash)
        const op = wireOpOf(action, entry)
        const size = op.action.length + op.signature.length + (op.entry?.length ?? 0)
        // The first op always goes, so an oversized op cannot stall a chain forever.
        if (ops > 0 && bytes + size > MAX_ANSWER_BYTES) {
          if (chain.length > 0) chains.push([author, toWireTuples(chain)])
          return { chains, more: true }
        }
        chain.push(op)
        ops++
        bytes += size
      }
      if (chain.length > 0) chains.push([author, toWireTuples(chain)])
      if (ops >= MAX_ANSWER_OPS) return { chains, more: true }
    }
    return { chains, more: false }
  }

  /** The chain suffixes `heads` (the other peer's) has and this store lacks. */
  #wants(dnaHash: Uint8Array, heads: HeadTuple[]): Want[] {
    const { store, ingest, self } = this.#init
    const held = new Map(store.chainHeads(dnaHash).map((head) => [encodeHashB64(head.author), head]))
    const wants: Want[] = []
    for (const [author, seq, hash] of heads) {
      if (hashesEqual(author, self) || ingest.isWarranted(author)) continue
      const ours = held.get(encodeHashB64(author))
      if (ours === undefined) wants.push({ author, fromSeq: 0, toSeq: seq })
      else if (ours.seq < seq) wants.push({ author, fromSeq: ours.seq + 1, toSeq: seq })
      // Same length, different head: one of the two is a fork. Fetching theirs lets ingest judge it.
      else if (ours.seq === seq && !hashesEqual(ours.hash, hash))
        wants.push({ author, fromSeq: seq, toSeq: seq })
    }
    return wants
  }

  #claim(dnaHash: Uint8Array, author: Uint8Array): boolean {
    const key = chainKey(dnaHash, author)
    if (this.#fetching.has(key)) return false
    this.#fetching.add(key)
    return true
  }

  async #fetch(peer: PeerId, dnaHash: Uint8Array, wants: Want[]): Promise<void> {
    const { rpc, store, signal } = this.#init
    let open = wants
    for (let round = 0; open.length > 0 && round < MAX_ROUNDS; round++) {
      const request = encodeMessage({ t: 'ops', dna: dnaHash, wants: open.map((w) => [w.author, w.fromSeq]) })
      const answer = decodeMessage(
        opsAnswerSchema,
        await rpc.request(peer, SYNC_PROTOCOL, request, { signal, openToNetwork: true }),
        'ops answer',
      )
      const received = new Set(answer.chains.map(([author]) => encodeHashB64(author)))
      const result = this.#init.deliver({ dnaHash, ops: answer.chains.flatMap(([, ops]) => ops) }, peer)
      if (!answer.more || result === null) return
      open = open.flatMap((want) => {
        // Not reached yet in this answer: ask again as before.
        if (!received.has(encodeHashB64(want.author))) return [want]
        const head = store.chainHead(dnaHash, want.author)
        const have = head === null ? -1 : head.seq
        // Done, or nothing of what came was stored (refused, or waiting): stop asking for it.
        if (have >= want.toSeq || have < want.fromSeq) return []
        return [{ ...want, fromSeq: have + 1 }]
      })
    }
  }
}

/** A DNA's heads as of the store's write count `writes`, with what was read of them since. */
interface HeadsOf {
  writes: number
  heads: HeadTuple[]
  digest: Uint8Array
  /** Per head whose chain is not shared, the head of its genesis (null: not held), read when first asked. */
  genesisEnds: Map<HeadTuple, HeadTuple | null>
}

/** The chains both peers keep as chains when sharded (chain-overlap.ts); null: every chain. */
type Shared = ((author: Uint8Array) => boolean) | null

/**
 * The last seq of `author`'s chain that both peers keep: all of it when shared, else its genesis,
 * which every member keeps as chain (op-placement.ts isGenesis: Dna, AgentValidationPkg, its key), so
 * membership still reaches every peer, a newcomer too, by this protocol open to the network.
 */
function reach(shared: Shared, author: Uint8Array): number {
  return shared === null || shared(author) ? Number.POSITIVE_INFINITY : GENESIS_LAST_SEQ
}
const GENESIS_LAST_SEQ = 2

/** One hash over a DNA's chain heads, whatever their order: equal on two peers holding the same heads. */
export function headsDigest(heads: readonly HeadTuple[]): Uint8Array {
  const hash = createHash('sha256')
  // Compared and hashed where they lie: a copy of each key per comparison was most of its cost.
  const sorted = [...heads].sort(([a], [b]) => Buffer.compare(a, b))
  const seqBytes = Buffer.alloc(8)
  for (const [author, seq, head] of sorted) {
    seqBytes.writeBigUInt64BE(BigInt(seq))
    hash.update(author).update(seqBytes).update(head)
  }
  return new Uint8Array(hash.digest())
}
