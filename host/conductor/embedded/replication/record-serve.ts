/**
 * The holder's side of a get (`record/1.0.0`): an op answered from the local store as replication
 * carries it (a private entry withheld), none for what is not held (of that DNA), or of an author
 * warranted or revoked here (its ops do not spread from here, as anti-entropy does not serve them).
 * A list (the links on a base, what targets a record) is answered the same way, newest first, at most
 * MAX_LISTED ops and a quarter of request-response's frame. Members only, and bounded: a rate per
 * asking peer (refused past it, saying when to ask again), as `usage/1.0.0` bounds its asks.
 */
import { encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import type { RippleNode } from '../../../net/create-node.ts'
import { MAX_MESSAGE_BYTES, type RequestHandler } from '../../../net/request-response.ts'
import type { ChainStore, StoredAction } from '../../../storage/chain-store.ts'
import { AskRate } from '../../../usage/ask-rate.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { type WireOp, wireOpOf } from './op-wire.ts'
import {
  decodeRecordAsk,
  encodeRecordAnswer,
  encodeRecordListAnswer,
  MAX_LISTED,
  RECORD_GET_PROTOCOL,
  type RecordList,
  type RecordListAnswer,
} from './record-get-wire.ts'
import type { Replication } from './replicator.ts'

/** Gets a peer may make at once, and per minute after: a `task show` or a batch check is a few. */
export const RECORD_GETS_PER_MINUTE = 600

/** A list's answer stays within a quarter of a frame, whatever its entries weigh. */
const LIST_BYTES = MAX_MESSAGE_BYTES / 4

export interface RecordServeInit {
  store: Pick<ChainStore, 'getAction' | 'getEntry'>
  /** What lists are answered from; without it a list is refused (a store of held ops alone). */
  lists?: Pick<ChainStore, 'getLinks' | 'actionsTargeting'>
  /** Warranted or revoked here (HoloHashB64). */
  barred: (agent: string) => boolean
  /** Default: RECORD_GETS_PER_MINUTE for each peer. */
  rate?: AskRate
  /** Milliseconds, for the rate. */
  now?: () => number
}

export class RecordGetsRefusedError extends Error {
  static override readonly name = 'RecordGetsRefusedError'
  constructor(retryAfterS: number) {
    super(`too many record gets from this peer: ask again in ${retryAfterS} s`)
    this.name = 'RecordGetsRefusedError'
  }
}

export function recordServer(init: RecordServeInit): RequestHandler {
  const rate = init.rate ?? new AskRate(RECORD_GETS_PER_MINUTE)
  const now = init.now ?? Date.now
  const { store } = init
  return async (bytes, peer) => {
    const verdict = rate.take(peer.toString(), now())
    if (!verdict.ok) throw new RecordGetsRefusedError(verdict.retryAfterS)
    const ask = decodeRecordAsk(bytes)
    if (ask.kind === 'list') {
      if (init.lists === undefined) throw new RecordListsUnservedError()
      return encodeRecordListAnswer(listed(init, ask.dnaHash, ask.list))
    }
    const { dnaHash, actionHash } = ask
    const held = store.getAction(actionHash)
    const served =
      held !== null && hashesEqual(held.dnaHash, dnaHash) && !init.barred(encodeHashB64(held.author))
    return encodeRecordAnswer(
      served ? wireOpOf(held, held.entryHash && store.getEntry(held.entryHash)) : null,
    )
  }
}

export class RecordListsUnservedError extends Error {
  static override readonly name = 'RecordListsUnservedError'
  constructor() {
    super('this holder answers gets, not lists')
    this.name = 'RecordListsUnservedError'
  }
}

/**
 * The ops of `list` held here of the DNA asked, newest first, within the bounds. Each link's actions
 * are read only as it is taken: an open-tasks anchor may have many thousands, an answer has 512.
 */
function listed(init: RecordServeInit, dnaHash: Uint8Array, list: RecordList): RecordListAnswer {
  const { store } = init
  const lists = init.lists!
  const action = (hash: Uint8Array | null) => (hash === null ? null : store.getAction(hash))
  const newestFirst = <T extends { timestamp: number }>(rows: T[]) =>
    rows.sort((a, b) => b.timestamp - a.timestamp)
  const groups: Iterable<StoredAction[]> =
    list.kind === 'targets'
      ? newestFirst(lists.actionsTargeting(list.hash)).map((a) => [a])
      : lazyMap(
          newestFirst(
            lists.getLinks({
              dnaHash,
              base: list.base,
              linkType: list.linkType,
              tagPrefix: list.tagPrefix,
              includeDeleted: list.deleted,
            }),
          ),
          (link) =>
            [action(link.createHash), list.deleted ? action(link.deletedBy) : null].filter(
              (a): a is StoredAction => a !== null,
            ),
        )
  const servable = (group: StoredAction[]) =>
    group.length > 0 &&
    group.every((a) => hashesEqual(a.dnaHash, dnaHash) && !init.barred(encodeHashB64(a.author)))
  const ops: WireOp[] = []
  let bytes = 0
  let taken = 0
  for (const group of groups) {
    if (!servable(group)) continue
    const wire = group.map((a) => wireOpOf(a, a.entryHash && store.getEntry(a.entryHash)))
    const size = wire.reduce(
      (n, op) => n + op.action.length + op.signature.length + (op.entry?.length ?? 0),
      0,
    )
    if (taken === MAX_LISTED || bytes + size > LIST_BYTES) return { ops, more: true }
    ops.push(...wire)
    bytes += size
    taken++
  }
  return { ops, more: false }
}

function* lazyMap<T, R>(items: Iterable<T>, fn: (item: T) => R): Iterable<R> {
  for (const item of items) yield fn(item)
}

/** Serves `record/1.0.0` from the conductor's store, to members; what replication bars is not served. */
export function serveRecords(
  node: Pick<RippleNode, 'rpc'>,
  conductor: Pick<EmbeddedConductor, 'store'>,
  replication: Pick<Replication, 'isWarranted' | 'isRevoked'>,
): Promise<void> {
  const barred = (agent: string) => replication.isWarranted(agent) || replication.isRevoked(agent)
  const { store } = conductor
  // A brief use: a record's holders are other peers for each record read.
  return node.rpc.handle(RECORD_GET_PROTOCOL, recordServer({ store, lists: store, barred }), { use: 'brief' })
}
