/**
 * The RemoteReads a sharded embedded peer attaches to its conductor (issue 57): which reads live
 * elsewhere (records sharded, a neighbourhood type, this peer not among the basis's holders:
 * record-sharding.ts, record-scope.ts, op-holders.ts) and the gets of what zome calls missed, from
 * their holders: a record by action hash (holder-get.ts) with what targets it, a base's links
 * (holder-lists.ts), each checked, a few at a time, all under the call's signal (its deadline). Only what this peer is no holder of is asked, so
 * what comes back is handed to the call and not stored (record-reads.ts' rule: a peer keeps only
 * what it holds).
 */
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import type { NetworkConfig } from '../../../config/network-schema.ts'
import { encodeHashB64 } from '../../../identity/hash.ts'
import type { RecordReadCount } from '../../../interface/network-port.ts'
import { toStoredAction } from '../action.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import type { GotReads, ReadMiss, RemoteReads } from '../remote-reads.ts'
import type { EmbeddedPeer } from './embedded-peer.ts'
import { RecordNotFoundError, RecordRefusedError } from './errors.ts'
import type { HolderGet } from './holder-get.ts'
import { HolderLists } from './holder-lists.ts'
import { getBasis } from './op-basis.ts'
import { isOpHolder } from './op-holders.ts'
import { holderReadsOf } from './record-reads.ts'
import { entryScope, linkScope } from './record-scope.ts'

/** Gets in flight at once for one round of one call. */
export const ZOME_READ_CONCURRENCY = 8

export interface ZomeReadsInit {
  conductor: Pick<EmbeddedConductor, 'agentPubKey' | 'cell'>
  holderGet: Pick<HolderGet, 'get'>
  holderLists: Pick<HolderLists, 'list'>
  /** The members this peer knows now (membership.ts `knownMembers`). */
  members: () => Iterable<string>
  /** The network file's `record.holders`. */
  holders: number
  /** Whether records live with their neighbourhood only (record-sharding.ts). */
  sharded: (members: number) => boolean
}

/**
 * How long a read trusts the members it counted and whether they shard: a call's many reads count
 * them once (the sharding gate asks every member's standing: not a cost to pay per read).
 */
const MEMBERS_FRESH_MS = 1000

/** The zome reads of a peer, with the reads they asked of holders so far (/metrics). */
export type CountedReads = RemoteReads & { reads(): RecordReadCount[] }

export function zomeReads(init: ZomeReadsInit, now: () => number = Date.now): CountedReads {
  const { conductor } = init
  const tally = new Map<string, RecordReadCount>()
  let counted = { at: Number.NEGATIVE_INFINITY, members: [] as string[], sharded: false }
  const count = () => {
    if (now() - counted.at > MEMBERS_FRESH_MS) {
      const members = [...init.members()]
      counted = { at: now(), members, sharded: init.sharded(members.length) }
    }
    return counted
  }
  return {
    elsewhere(dna, basis, typeName) {
      const { members: known, sharded } = count()
      if (!sharded) return false
      const scope = typeName === null ? undefined : (entryScope(dna, typeName) ?? linkScope(dna, typeName))
      if (scope === 'everywhere') return false
      return !isOpHolder(conductor.agentPubKey, basis, known, init.holders)
    },
    async fetch(dna, misses, signal, fn) {
      for (const { kind } of misses) {
        const key = `${dna} ${fn} ${kind}`
        const count = tally.get(key) ?? { dna, fn, kind, count: 0 }
        count.count++
        tally.set(key, count)
      }
      const parts = await inBatches(misses, ZOME_READ_CONCURRENCY, (miss) =>
        fetchOne(init, dna, miss, signal),
      )
      return { records: parts.flatMap((p) => p.records), linkSets: parts.flatMap((p) => p.linkSets) }
    },
    reads: () => [...tally.values()].map((count) => ({ ...count })),
  }
}

async function fetchOne(
  init: ZomeReadsInit,
  dna: DnaName,
  miss: ReadMiss,
  signal: AbortSignal,
): Promise<GotReads> {
  if (miss.kind === 'links') {
    const got = await init.holderLists.list(dna, miss, [], signal)
    return { records: got.records, linkSets: got.from === null ? [] : [{ miss, links: got.links }] }
  }
  const hash = getBasis(miss.hash)
  let record: GotReads['records'][number]
  try {
    const got = await init.holderGet.get(dna, encodeHashB64(hash), signal)
    const signed = { hash, content: got.action, bytes: got.op.action, signature: got.op.signature }
    record = { action: toStoredAction(signed, init.conductor.cell(dna).dnaHash), entry: got.entry }
  } catch (err) {
    // Nowhere, or refused: the read answers none, as Holochain's get does.
    if (err instanceof RecordNotFoundError || err instanceof RecordRefusedError)
      return { records: [], linkSets: [] }
    throw err
  }
  const targeting = await init.holderLists.list(dna, { kind: 'targets', hash }, [record], signal)
  return { records: [record, ...targeting.records], linkSets: [] }
}

/** `fn` over `items`, at most `width` at a time, results in order. */
async function inBatches<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = []
  for (let i = 0; i < items.length; i += width)
    results.push(...(await Promise.all(items.slice(i, i + width).map(fn))))
  return results
}

/** The zome reads of an embedded peer: its members and `record.holders`, its gets from holders. */
export function zomeReadsOf(
  peer: Pick<EmbeddedPeer, 'conductor' | 'node' | 'replication'>,
  network: Pick<NetworkConfig, 'record'>,
  timeoutMs?: number,
): CountedReads {
  const { init, members, holders, holderGet, sharded } = holderReadsOf(peer, network, timeoutMs)
  const holderLists = new HolderLists(init)
  return zomeReads({ conductor: peer.conductor, holderGet, holderLists, members, holders, sharded })
}
