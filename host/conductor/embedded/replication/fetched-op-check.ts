/**
 * What a peer that got an op from a holder makes of it, by the checks ingest makes of an op from a peer
 * and with the same blame (op-ingest.ts): what the author did not sign (the action is not the one
 * asked for, a signature that does not verify, entry bytes that do not match) convicts the holder that
 * served it, and the next holder is asked; what the author signed and the rules refuse convicts the
 * author, and no other holder can serve anything else, since the action is the hash asked for. Chain
 * continuity is checked against the author's previous action where it is held here; beyond that it is
 * the author's neighbourhood's to check (agent activity), which a get does not ask yet.
 */
import type { Action } from '@holochain/client'
import { hashContent, hashesEqual } from '../../../identity/hash.ts'
import { verifyAgentSignature } from '../../../identity/keystore.ts'
import type { ChainStore, StoredAction, StoredEntry } from '../../../storage/chain-store.ts'
import { actionSeq, prevActionOf, toCommitItem, toStoredAction } from '../action.ts'
import type { Cell } from '../cell.ts'
import { checkActionPayload, checkChainAction } from '../chain-verify.ts'
import { ActionTypes } from '../hc-enums.ts'
import type { RecordBeside } from '../validation/record-rules.ts'
import { entryOf, judgeByRules } from './op-checks.ts'
import type { WireOp } from './op-wire.ts'
import { parseActionContent, readClaimedAuthor } from './signed-action.ts'

export type FetchedVerdict =
  /** `stored`: the action as the store would hold it (what a record built on it is judged beside). */
  | { kind: 'valid'; action: Action; entry: StoredEntry | null; stored: StoredAction }
  /** The holder served what the author did not sign: warrant it, ask the next. */
  | { kind: 'holder'; rule: string; reason: string }
  /** The author signed what the rules refuse: warrant it; every holder would serve the same. */
  | { kind: 'author'; author: Uint8Array; rule: string; reason: string }
  /**
   * Not to be judged here: its author is barred, a member it names (its author, an invite's issuer or
   * witness) has no genesis here yet, or what it builds on is not held here (`needs`, the action hashes
   * the rules asked for: a get fetches them from their holders and judges it again).
   */
  | { kind: 'unchecked'; reason: string; needs?: readonly string[] }

export interface FetchedOpContext {
  cell: Cell
  store: Pick<ChainStore, 'getAction'>
  /** Warranted or revoked here: its ops are not taken, as ingest ignores them. */
  barred: (author: Uint8Array) => boolean
  /** Records got from their holders and checked, that it may build on; default none. */
  beside?: readonly RecordBeside[]
}

export function checkFetchedOp(context: FetchedOpContext, op: WireOp, asked: Uint8Array): FetchedVerdict {
  const { cell, store } = context
  const hash = hashContent(op.action, 'action')
  if (!hashesEqual(hash, asked)) return holder('sys.hash', 'the action served is not the one asked for')
  const claimed = readClaimedAuthor(op.action)
  if (claimed === null) return holder('sys.malformed', 'not an action of any author')
  const { author } = claimed
  if (context.barred(author)) return { kind: 'unchecked', reason: 'its author is warranted or revoked here' }
  if (!verifyAgentSignature(author, op.action, op.signature))
    return holder('sys.signature', 'the signature does not verify against the author key')
  const parsed = parseActionContent(claimed.content)
  if ('problem' in parsed) return { kind: 'author', author, rule: 'sys.action_shape', reason: parsed.problem }
  const action = parsed.action
  if (action.type === ActionTypes.Dna && !hashesEqual(action.hash, cell.dnaHash))
    return { kind: 'unchecked', reason: 'an action of another DNA' }
  const row = toStoredAction(
    { hash, content: action, bytes: op.action, signature: op.signature },
    cell.dnaHash,
  )
  const prevHash = prevActionOf(action)
  const held = prevHash && store.getAction(prevHash)
  const chained = held && hashesEqual(held.author, author) && hashesEqual(held.dnaHash, cell.dnaHash)
  const position = chained
    ? {
        dnaHash: cell.dnaHash,
        author,
        seq: held.seq + 1,
        prev: { hash: held.hash, timestamp: held.timestamp },
      }
    : { dnaHash: cell.dnaHash, author, seq: actionSeq(action), prev: null }
  const misplaced = checkChainAction(action, row, position)
  if (misplaced !== null) return { kind: 'author', author, rule: 'chain.action', reason: misplaced }
  const entry = entryOf(action, op.entry)
  const item = toCommitItem(action, row, entry)
  const payload = checkActionPayload(action, { entry, link: item.link ?? null })
  if (payload !== null) return holder('sys.entry', payload)
  const rules = judgeByRules(cell, action, entry, context.beside)
  if (rules.kind === 'waits' && rules.members.length > 0)
    return { kind: 'unchecked', reason: `no genesis is held here yet of ${rules.members.join(', ')}` }
  if (rules.kind === 'waits')
    return { kind: 'unchecked', reason: 'what it builds on is not held here', needs: rules.needs }
  if (rules.kind === 'invalid') return { kind: 'author', author, rule: rules.rule, reason: rules.reason }
  return { kind: 'valid', action, entry, stored: row }
}

const holder = (rule: string, reason: string): FetchedVerdict => ({ kind: 'holder', rule, reason })
