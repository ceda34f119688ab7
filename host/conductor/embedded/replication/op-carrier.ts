/**
 * The embedded backend's OpCarrier (host/interface/carried-ops.ts): this agent's ops read from its own
 * chain as gossip would send them, and ops an agent carried here checked and stored by replication's
 * ingest, with that agent as the sender who answers for what its author did not sign.
 */

import { decodeHashB64, hashContent, hashesEqual } from '../../../identity/hash.ts'
import type { CarriedOutcome, OpCarrier } from '../../../interface/carried-ops.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { type WireOp, wireOpOf } from './op-wire.ts'
import type { Replication } from './replicator.ts'

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'))

export function embeddedOpCarrier(
  conductor: Pick<EmbeddedConductor, 'agentPubKey' | 'store' | 'cell'>,
  replication: Pick<Replication, 'receiveCarried'>,
): OpCarrier {
  const { store } = conductor
  const self = decodeHashB64(conductor.agentPubKey, 'agent')
  return {
    carry(dna, action, before) {
      const dnaHash = conductor.cell(dna).dnaHash
      const held = store.getAction(decodeHashB64(action, 'action'))
      if (held === null || !hashesEqual(held.author, self) || !hashesEqual(held.dnaHash, dnaHash)) return null
      const from = Math.max(0, held.seq - before)
      return store.chainRange(dnaHash, self, from, held.seq - from + 1).map((a) => {
        const op = wireOpOf(a, a.entryHash && store.getEntry(a.entryHash))
        return [toBase64(op.action), toBase64(op.signature), op.entry && toBase64(op.entry)]
      })
    },

    ingest(dna, ops, from) {
      const wire = ops.map(
        ([action, signature, entry]): WireOp => ({
          action: fromBase64(action),
          signature: fromBase64(signature),
          entry: entry === null ? null : fromBase64(entry),
        }),
      )
      const result = replication.receiveCarried(dna, wire, from)
      return outcomeOf(wire, result, (hash) => store.getAction(hash) !== null)
    },
  }
}

/** Held when every op carried is held now, whatever else the same ingest stored or refused. */
function outcomeOf(
  ops: WireOp[],
  result: ReturnType<Replication['receiveCarried']>,
  holds: (hash: Uint8Array) => boolean,
): CarriedOutcome {
  if (ops.every((op) => holds(hashContent(op.action, 'action')))) return 'held'
  // Replication stopped, or ops waiting for what they build on: as for gossip, later.
  if (result === null || (result.counts.rejected === 0 && result.waiting)) return 'waiting'
  return 'refused'
}
