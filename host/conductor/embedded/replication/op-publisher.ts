/**
 * Publishing this agent's commits (moved out of replicator.ts). Commits that one disk sync made durable
 * together are handed over in one microtask run and go out together, a few messages instead of one
 * each. While records are not sharded every op goes on the `ops` gossip topic, as before; once they
 * are (issue 57), an everywhere op and a genesis still do, and a neighbourhood op is pushed to its
 * holders instead (op-placer.ts `pushTo`, op-push.ts), since gossip reaches every peer.
 */
import type { Action } from '@holochain/client'
import { encodeHashB64 } from '../../../identity/hash.ts'
import type { Logger } from '../../../log/logger.ts'
import type { RipplePubsub } from '../../../net/pubsub.ts'
import type { Cell } from '../cell.ts'
import type { OpPlacer } from './op-placer.ts'
import { MAX_PUSHED_OPS, type OpPusher } from './op-push.ts'
import { encodeOpBatch, type OpBatch, type WireOp } from './op-wire.ts'

/** Most ops in one gossip message (a burst of commits goes out in a few messages, not hundreds). */
const MAX_OPS_PER_MESSAGE = 64

/** A committed op, with the action it carries and its hash (what placement reads). */
export interface CommittedOp {
  op: WireOp
  action: Action
  hash: Uint8Array
}

export interface OpPublisherInit {
  pubsub: Pick<RipplePubsub, 'publish'>
  placer: Pick<OpPlacer, 'sharded' | 'place'>
  pusher: Pick<OpPusher, 'push'>
  cellOf: (dnaHash: Uint8Array) => Cell | undefined
  logger: Logger
  /** Counted once per op published, gossiped or pushed. */
  onPublished: (ops: number) => void
  stopped: () => boolean
}

export class OpPublisher {
  readonly #init: OpPublisherInit
  /** Ops committed here and not yet published, per DNA (hash B64), in commit order. */
  readonly #outbox = new Map<string, { dnaHash: Uint8Array; ops: CommittedOp[] }>()

  constructor(init: OpPublisherInit) {
    this.#init = init
  }

  /** Queues committed ops for publishing, at the end of this microtask run. */
  enqueue(dnaHash: Uint8Array, ops: readonly CommittedOp[]): void {
    if (this.#outbox.size === 0) queueMicrotask(() => this.#publishOutbox())
    const key = encodeHashB64(dnaHash)
    const batch = this.#outbox.get(key)
    if (batch === undefined) this.#outbox.set(key, { dnaHash, ops: [...ops] })
    else batch.ops.push(...ops)
  }

  #publishOutbox(): void {
    const batches = [...this.#outbox.values()]
    this.#outbox.clear()
    if (this.#init.stopped()) return
    const sharded = this.#init.placer.sharded
    for (const { dnaHash, ops } of batches) {
      const cell = this.#init.cellOf(dnaHash)
      if (!sharded || cell === undefined) {
        this.#gossip(
          dnaHash,
          ops.map((c) => c.op),
        )
        continue
      }
      const gossiped: WireOp[] = []
      const pushes = new Map<string, WireOp[]>()
      for (const { op, action, hash } of ops) {
        const placement = this.#init.placer.place(cell, action, hash)
        if (placement.gossip) gossiped.push(op)
        for (const agent of placement.pushTo) {
          const list = pushes.get(agent) ?? []
          list.push(op)
          pushes.set(agent, list)
        }
      }
      this.#gossip(dnaHash, gossiped)
      this.#init.onPublished(ops.length - gossiped.length)
      for (const [agent, list] of pushes) {
        for (let i = 0; i < list.length; i += MAX_PUSHED_OPS)
          void this.#init.pusher.push(agent, { dnaHash, ops: list.slice(i, i + MAX_PUSHED_OPS) })
      }
    }
  }

  #gossip(dnaHash: Uint8Array, ops: WireOp[]): void {
    for (let i = 0; i < ops.length; i += MAX_OPS_PER_MESSAGE) {
      const batch: OpBatch = { dnaHash, ops: ops.slice(i, i + MAX_OPS_PER_MESSAGE) }
      this.#init.onPublished(batch.ops.length)
      this.#init.pubsub
        .publish('ops', encodeOpBatch(batch))
        .catch((err: unknown) =>
          this.#init.logger.warn({ err }, 'publishing ops failed; anti-entropy will deliver them'),
        )
    }
  }
}
