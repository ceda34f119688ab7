/**
 * The holder's side of a get (`record/1.0.0`): an op answered from the local store as replication
 * carries it (a private entry withheld), none for what is not held (of that DNA), or of an author
 * warranted or revoked here (its ops do not spread from here, as anti-entropy does not serve them).
 * Members only, and bounded: one op an answer, within request-response's frame limit, and a rate per
 * asking peer (refused past it, saying when to ask again), as `usage/1.0.0` bounds its asks.
 */
import { encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import type { RippleNode } from '../../../net/create-node.ts'
import type { RequestHandler } from '../../../net/request-response.ts'
import type { ChainStore } from '../../../storage/chain-store.ts'
import { AskRate } from '../../../usage/ask-rate.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { wireOpOf } from './op-wire.ts'
import { decodeRecordGet, encodeRecordAnswer, RECORD_GET_PROTOCOL } from './record-get-wire.ts'
import type { Replication } from './replicator.ts'

/** Gets a peer may make at once, and per minute after: a `task show` or a batch check is a few. */
export const RECORD_GETS_PER_MINUTE = 600

export interface RecordServeInit {
  store: Pick<ChainStore, 'getAction' | 'getEntry'>
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
    const { dnaHash, actionHash } = decodeRecordGet(bytes)
    const held = store.getAction(actionHash)
    const served =
      held !== null && hashesEqual(held.dnaHash, dnaHash) && !init.barred(encodeHashB64(held.author))
    return encodeRecordAnswer(
      served ? wireOpOf(held, held.entryHash && store.getEntry(held.entryHash)) : null,
    )
  }
}

/** Serves `record/1.0.0` from the conductor's store, to members; what replication bars is not served. */
export function serveRecords(
  node: Pick<RippleNode, 'rpc'>,
  conductor: Pick<EmbeddedConductor, 'store'>,
  replication: Pick<Replication, 'isWarranted' | 'isRevoked'>,
): Promise<void> {
  const barred = (agent: string) => replication.isWarranted(agent) || replication.isRevoked(agent)
  return node.rpc.handle(RECORD_GET_PROTOCOL, recordServer({ store: conductor.store, barred }))
}
