/**
 * Reading a record by its action hash wherever it lives (issue 57): from this peer's store when it is
 * held here, otherwise from the op's holders (holder-get.ts, checked as ingest checks an op). What a
 * holder answers is kept when this peer should have had it, as ingest places it (op-placement.ts: a
 * basis or activity holder of it, or an everywhere op), or records are not sharded yet
 * (record-sharding.ts: every peer keeps everything). Ingest takes it as if that
 * holder had carried it, and catches up the rest from it. Otherwise it is handed back and forgotten, so
 * reading a far record does not change where records live.
 */
import type { Action } from '@holochain/client'
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import type { NetworkConfig } from '../../../config/network-schema.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../../config/network-schema.ts'
import { decodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import { peerIdOfAgent } from '../../../identity/peer-agent.ts'
import type { StoredEntry } from '../../../storage/chain-store.ts'
import { decodeAction } from '../action.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import type { EmbeddedPeer } from './embedded-peer.ts'
import { HolderGet, type HolderGetInit } from './holder-get.ts'
import { opScope, placeOp } from './op-placement.ts'
import { type WireOp, wireOpOf } from './op-wire.ts'
import { recordsSharded } from './record-sharding.ts'
import type { Replication } from './replicator.ts'

export interface RecordReadsInit {
  conductor: Pick<EmbeddedConductor, 'agentPubKey' | 'store' | 'cell'>
  replication: Pick<Replication, 'receiveCarried'>
  /** The members this peer knows now (membership.ts `knownMembers`). */
  members: () => Iterable<string>
  /** The network file's `record.holders`. */
  holders: number
  /** The get from holders (HolderGet), over the same members and holders. */
  holderGet: Pick<HolderGet, 'get'>
  /** Whether records live with their neighbourhood only (record-sharding.ts); false: kept everywhere. */
  sharded: (members: number) => boolean
}

/** A record read: the op as peers carry it, its action and entry, and where it came from. */
export interface ReadRecord {
  op: WireOp
  action: Action
  entry: StoredEntry | null
  /** The agent that served it (HoloHashB64): this peer's own when it was held here. */
  from: string
  /** Held here before the read, or got from a holder and taken in because this peer should hold it. */
  held: boolean
}

export class RecordReads {
  readonly #init: RecordReadsInit

  constructor(init: RecordReadsInit) {
    this.#init = init
  }

  /**
   * The record of `actionHash` (HoloHashB64) in `dna`. Rejects as HolderGet does (RecordNotFoundError,
   * RecordRefusedError) when it is not held here and no holder serves one that passes the checks.
   */
  async read(dna: DnaName, actionHash: string, signal?: AbortSignal): Promise<ReadRecord> {
    const { conductor } = this.#init
    const hash = decodeHashB64(actionHash, 'action')
    const stored = conductor.store.getAction(hash)
    if (stored !== null && hashesEqual(stored.dnaHash, conductor.cell(dna).dnaHash)) {
      const entry = stored.entryHash && conductor.store.getEntry(stored.entryHash)
      const op = wireOpOf(stored, entry)
      return { op, action: decodeAction(stored.bytes), entry, from: conductor.agentPubKey, held: true }
    }
    const got = await this.#init.holderGet.get(dna, actionHash, signal)
    const members = [...this.#init.members()]
    // Kept where this peer should hold it, by the placement ingest keeps by (op-placement.ts).
    const target = (h: Uint8Array) => {
      const stored = conductor.store.getAction(h)
      return stored && decodeAction(stored.bytes)
    }
    const placed = placeOp({
      action: got.action,
      hash,
      scope: opScope(conductor.cell(dna).dna, got.action, target),
      members,
      holders: this.#init.holders,
      self: conductor.agentPubKey,
      sharded: this.#init.sharded(members.length),
    })
    const holds = placed.keep !== null
    if (holds) this.#init.replication.receiveCarried(dna, [got.op], got.from)
    return { ...got, held: holds }
  }
}

/** What the gets from holders of an embedded peer ask by: its members, its network's `record.holders`. */
export function holderGetInitOf(
  peer: Pick<EmbeddedPeer, 'conductor' | 'node' | 'replication'>,
  network: Pick<NetworkConfig, 'record'>,
  timeoutMs?: number,
): HolderGetInit & { holders: number; members: () => string[] } {
  const { conductor, node, replication } = peer
  return {
    rpc: node.rpc,
    conductor,
    replication,
    members: () => [...replication.members()],
    holders: network.record?.holders ?? DEFAULT_RECORD_HOLDERS,
    connected: (agent) => node.libp2p.getConnections(peerIdOfAgent(agent)).length > 0,
    timeoutMs,
  }
}

/** Whether records are sharded on an embedded peer's mesh of `members` (record-sharding.ts). */
function shardedOn(peer: Pick<EmbeddedPeer, 'node'>, holders: number): (members: number) => boolean {
  return (members) => recordsSharded({ members, holders, versions: peer.node.versions })
}

/** Whether records are sharded on an embedded peer's mesh as it counts its members (a second ago at most). */
export function recordsShardedNow(
  peer: Pick<EmbeddedPeer, 'conductor' | 'node' | 'replication'>,
  network: Pick<NetworkConfig, 'record'>,
): () => boolean {
  const sharded = shardedOn(peer, network.record?.holders ?? DEFAULT_RECORD_HOLDERS)
  const members = () => peer.replication.members()
  // Asked at every plan of the scheduler: whether the versions allow it is asked again once a second.
  let last = { at: Number.NEGATIVE_INFINITY, sharded: false }
  return () => {
    const now = Date.now()
    if (now - last.at > 1000) last = { at: now, sharded: sharded(members().length) }
    return last.sharded
  }
}

/** What an embedded peer's reads from holders (a record, a zome call's misses) share. */
export function holderReadsOf(
  peer: Pick<EmbeddedPeer, 'conductor' | 'node' | 'replication'>,
  network: Pick<NetworkConfig, 'record'>,
  timeoutMs?: number,
) {
  const init = holderGetInitOf(peer, network, timeoutMs)
  const { members, holders } = init
  return { init, members, holders, holderGet: new HolderGet(init), sharded: shardedOn(peer, holders) }
}

/** The read path of an embedded peer: its store, then the holders its network's `record.holders` names. */
export function recordReadsOf(
  peer: Pick<EmbeddedPeer, 'conductor' | 'node' | 'replication'>,
  network: Pick<NetworkConfig, 'record'>,
  timeoutMs?: number,
): RecordReads {
  const { members, holders, holderGet, sharded } = holderReadsOf(peer, network, timeoutMs)
  const { conductor, replication } = peer
  return new RecordReads({ conductor, replication, members, holders, holderGet, sharded })
}
