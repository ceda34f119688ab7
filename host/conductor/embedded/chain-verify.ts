/**
 * Chain verification at open: every action's hash recomputed from its stored bytes, its signature
 * checked, seq continuous from 0, each prev_action the hash before it, timestamps rising, genesis in
 * Holochain's order, entries matching their hashes, indexed columns matching the signed content, and
 * the recorded head being the last action (so a cut-off tail is caught too). From a trusted
 * checkpoint (./chain-checkpoint.ts) only the actions after it are verified, linked to it.
 */
import type { Action } from '@holochain/client'
import { encodeHashB64, hashContent, hashesEqual } from '../../identity/hash.ts'
import { verifyAgentSignature } from '../../identity/keystore.ts'
import type {
  ChainHead,
  ChainStore,
  StoredAction,
  StoredEntry,
  StoredLink,
} from '../../storage/chain-store.ts'
import {
  actionSeq,
  decodeAction,
  entryHashOfAction,
  entryHashOfKind,
  prevActionOf,
  targetActionOf,
  writesPrivateEntry,
} from './action.ts'
import type { ChainDigest } from './chain-digest.ts'
import { ChainIntegrityError } from './errors.ts'
import { ActionTypes } from './hc-enums.ts'

const GENESIS_TYPES = [
  ActionTypes.Dna,
  ActionTypes.AgentValidationPkg,
  ActionTypes.Create,
  ActionTypes.InitZomesComplete,
] as const

export interface VerifiedHead extends ChainHead {
  timestamp: number
}

/**
 * Verifies the chain of `author` in `dnaHash` after `from` (a verified head; null: from genesis),
 * adding each verified action to `digest`; returns the head, or null for an empty chain.
 */
export function verifyChain(
  store: ChainStore,
  dnaName: string,
  dnaHash: Uint8Array,
  author: Uint8Array,
  from: VerifiedHead | null = null,
  digest?: ChainDigest,
): VerifiedHead | null {
  let prev: { hash: Uint8Array; timestamp: number } | null = from
  let seq = from === null ? 0 : from.seq + 1
  const broken = (row: StoredAction | null, reason: string) =>
    new ChainIntegrityError(dnaName, seq, row ? encodeHashB64(row.hash) : null, reason)

  for (const row of store.chainActions(dnaHash, author, seq)) {
    if (row.seq !== seq) throw broken(null, `action missing (next stored action has seq ${row.seq})`)
    if (!hashesEqual(hashContent(row.bytes, 'action'), row.hash))
      throw broken(row, 'action bytes do not match its hash')
    let action: Action
    try {
      action = decodeAction(row.bytes)
    } catch {
      throw broken(row, 'action bytes are not valid msgpack')
    }
    const entryHash = entryHashOfAction(action)
    const entry = entryHash && store.getEntry(entryHash)
    const link = action.type === ActionTypes.CreateLink ? store.getLink(row.hash) : null
    const problem =
      checkChainAction(action, row, { dnaHash, author, seq, prev }) ??
      checkActionPayload(action, { entry, link }) ??
      (link && !hashesEqual(link.dnaHash, dnaHash) ? 'its link index row is in another DNA' : null)
    if (problem !== null) throw broken(row, problem)
    if (!verifyAgentSignature(author, row.bytes, row.signature))
      throw broken(row, 'signature does not verify')
    digest?.add(row, entry, link)
    prev = { hash: row.hash, timestamp: action.timestamp }
    seq++
  }

  const head = store.chainHead(dnaHash, author)
  if (prev === null) {
    if (head !== null) throw broken(null, 'the chain head is recorded but no action is stored')
    return null
  }
  if (seq < GENESIS_TYPES.length) throw broken(null, 'genesis is incomplete')
  if (head === null || head.seq !== seq - 1 || !hashesEqual(head.hash, prev.hash)) {
    throw broken(null, `the recorded head (seq ${head?.seq ?? 'none'}) is not the last stored action`)
  }
  return { hash: prev.hash, seq: seq - 1, timestamp: prev.timestamp }
}

/** Where an action must sit: its author's chain in one DNA, at `seq`, after `prev` (null at seq 0). */
export interface ChainPosition {
  dnaHash: Uint8Array
  author: Uint8Array
  seq: number
  prev: { hash: Uint8Array; timestamp: number } | null
}

/**
 * What is wrong with one action's signed content at its place in the chain, or null. `row` is the
 * action as stored (or as it would be stored): its indexed columns must match the signed content.
 * Shared by whole-chain verification and by replication, which checks each op it receives.
 */
export function checkChainAction(action: Action, row: StoredAction, position: ChainPosition): string | null {
  const { dnaHash, author, seq, prev } = position
  if (action.type !== row.type) return `stored type ${row.type} differs from the signed type ${action.type}`
  if (!hashesEqual(action.author, author)) return 'author is not the chain owner'
  if (actionSeq(action) !== seq) return `signed action_seq ${actionSeq(action)} where ${seq} was expected`
  if (action.timestamp !== row.timestamp) return 'stored timestamp differs from the signed one'
  const genesisType = GENESIS_TYPES[seq]
  if (genesisType !== undefined && action.type !== genesisType) {
    return `genesis action ${seq} is ${action.type}, expected ${genesisType}`
  }
  if (
    genesisType === undefined &&
    (action.type === ActionTypes.Dna || action.type === ActionTypes.AgentValidationPkg)
  ) {
    return `${action.type} after genesis`
  }
  if (action.type === ActionTypes.Dna && !hashesEqual(action.hash, dnaHash))
    return 'Dna action names another DNA'
  const prevHash = prevActionOf(action)
  if (prev !== null) {
    if (prevHash === null || !hashesEqual(prevHash, prev.hash))
      return 'prev_action is not the previous action'
    if (action.timestamp <= prev.timestamp) return 'timestamp does not increase'
  }
  if (!sameNullable(entryHashOfAction(action), row.entryHash))
    return 'stored entry hash differs from the signed one'
  if (!sameNullable(targetActionOf(action), row.targetAction))
    return 'stored target differs from the signed one'
  return null
}

/** The entry and link index row stored with an action (null where there is none). */
export interface ActionPayload {
  entry: StoredEntry | null
  link: Omit<StoredLink, 'deletedBy'> | null
}

/**
 * The entry a Create/Update wrote, or the index row a CreateLink made, must match what was signed.
 * Returns what is wrong, or null.
 */
export function checkActionPayload(action: Action, payload: ActionPayload): string | null {
  if (action.type === ActionTypes.Create || action.type === ActionTypes.Update) {
    const { entry } = payload
    if (entry === null) return writesPrivateEntry(action) ? null : 'its entry is missing'
    if (!entryMatches(entry, action.entry_hash)) return 'its entry does not match the entry hash'
    if (entry.kind === 'Agent' && !hashesEqual(entry.bytes, action.author))
      return 'agent entry is not the author key'
  }
  if (action.type === ActionTypes.CreateLink) {
    const { link } = payload
    if (
      link === null ||
      !hashesEqual(link.base, action.base_address) ||
      !hashesEqual(link.target, action.target_address) ||
      !hashesEqual(link.tag, action.tag) ||
      link.linkType !== action.link_type ||
      link.zomeIndex !== action.zome_index ||
      !hashesEqual(link.author, action.author) ||
      link.timestamp !== action.timestamp
    ) {
      return 'its link index row is missing or differs from the signed link'
    }
  }
  return null
}

function entryMatches(entry: StoredEntry, entryHash: Uint8Array): boolean {
  try {
    return hashesEqual(entryHashOfKind(entry.kind, entry.bytes), entryHash)
  } catch {
    // An agent entry's bytes that are no agent key at all (a stored kind or a received entry gone wrong).
    return false
  }
}

function sameNullable(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : hashesEqual(a, b)
}
