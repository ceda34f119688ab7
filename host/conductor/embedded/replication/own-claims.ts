/**
 * An op by this agent's key that this agent does not hold (op-ingest.ts). Not signed by it: forged.
 * Signed, at a seq its own chain already has: a fork this agent never made (its key is in other hands).
 * Either way the sender delivered it. One past the head is ignored: a chain restored from an older
 * backup gets its own later actions back from peers that way, and no honest peer is to blame.
 */
import { verifyAgentSignature } from '../../../identity/keystore.ts'
import type { ChainStore } from '../../../storage/chain-store.ts'
import { actionSeq } from '../action.ts'
import type { Cell } from '../cell.ts'
import type { OpOutcome } from './ingest-result.ts'
import type { WireOp } from './op-wire.ts'
import { parseActionContent } from './signed-action.ts'

export interface OwnClaim {
  store: Pick<ChainStore, 'chainHead'>
  self: Uint8Array
  cell: Cell
  /** Convicts the sender: ingest's reject, the op's hash and cell bound. */
  blameSender: (rule: string, reason: string) => 'rejected'
}

export function judgeOwnClaim(claim: OwnClaim, op: WireOp, content: unknown): OpOutcome {
  if (!verifyAgentSignature(claim.self, op.action, op.signature))
    return claim.blameSender('sys.signature', "claims to be this agent's but is not signed by it")
  const parsed = parseActionContent(content)
  if ('problem' in parsed) return claim.blameSender('sys.action_shape', parsed.problem)
  const seq = actionSeq(parsed.action)
  const head = claim.store.chainHead(claim.cell.dnaHash, claim.self)
  if (head !== null && seq <= head.seq)
    return claim.blameSender('chain.fork', `a second action at seq ${seq} of this agent's own chain`)
  return 'ignored'
}
