/**
 * The rules as both writers of the store run them: the HDK on an entry before it signs it, and
 * replication on every action a peer sends. One path, so a peer enforces on others exactly what it
 * enforces on itself. Dependencies (the record an update or delete names, records the rules ask
 * for) come from a RecordSource: the store, plus a zome call's pending writes for the HDK.
 */
import type { Action } from '@holochain/client'
import { decodeMsgpack } from '../../../identity/canonical.ts'
import { decodeHashB64, encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import type { MembraneProof } from '../../../identity/membrane-grant.ts'
import type { ChainStore, StoredAction, StoredEntry } from '../../../storage/chain-store.ts'
import { decodeAction, writesPrivateEntry } from '../action.ts'
import { type DnaDef, visibilityOf } from '../dna.ts'
import { UnknownTypeError } from '../errors.ts'
import { ActionTypes } from '../hc-enums.ts'
import { type AgentStanding, sealedUseKey } from './agent-standing.ts'
import {
  type InviteUse,
  inviteIdOf,
  MEMBRANE_PROOF_ENTRY_TYPE,
  membraneRulesEntry,
  redeemedAt,
  usesBefore,
  witnessOf,
} from './membrane-proof.ts'
import { validateEntry } from './validate-entry.ts'
import {
  InvalidEntryError,
  type ResolvedDependency,
  type RulesValidator,
  UnresolvedDependenciesError,
  type ValidationInput,
} from './validator.ts'

/** Where the records of one DNA are looked up. */
export interface RecordSource {
  /** An action of this DNA, or null. */
  findAction(hash: Uint8Array): StoredAction | null
  findEntry(hash: Uint8Array): StoredEntry | null
  /**
   * The membrane proof (decoded) of `author`'s genesis in this DNA: null when it carried none,
   * undefined when that genesis is not held (yet).
   */
  genesisProof(author: Uint8Array): unknown
  /** The geneses held in this DNA whose membrane proof cites invite `inviteId`. */
  inviteUses(inviteId: string): InviteUse[]
  /** When `author` was admitted (µs, `redeemedAt` of its genesis here), or undefined when not held. */
  admittedAt(author: Uint8Array): number | undefined
}

export interface RulesContext {
  validator: RulesValidator
  dna: DnaDef
  /** The DNA properties of the network (e.g. the progenitor key). */
  properties: Record<string, unknown>
  source: RecordSource
  standing: AgentStanding
}

/**
 * Genesis proofs decoded, by the genesis action's hash (bytes, as latin1). On a network of invites
 * every entry op asks for its author's: the action is looked up again after any write (what a store
 * holds is the truth, even after a rolled-back write: GenesisIndex), decoded once.
 */
const genesisProofs = new Map<string, unknown>()
const GENESIS_PROOFS_HELD = 10_000

/** The records of one DNA in a store (an action hash of another DNA is not found). */
export function storeRecords(store: ChainStore, dnaHash: Uint8Array): RecordSource {
  return {
    findAction(hash) {
      const stored = store.getAction(hash)
      return stored && hashesEqual(stored.dnaHash, dnaHash) ? stored : null
    },
    findEntry: (hash) => store.getEntry(hash),
    genesisProof: (author) => heldGenesis(store, dnaHash, author)?.proof,
    admittedAt(author) {
      const genesis = heldGenesis(store, dnaHash, author)
      return genesis && redeemedAt(genesis.proof, genesis.at)
    },
    inviteUses: (inviteId) => [...(heldInviteUses(store, dnaHash).get(inviteId) ?? [])],
  }
}

/**
 * Per store, per DNA (hash as latin1), as of the store's write count: the geneses read (by author, as
 * latin1) and the uses of each invite. Membership asks every member's genesis and its invite's uses
 * (every genesis walked) per member, many times a second on a sharded peer: O(N^2) reads a count of
 * the members. The same count of writes means the same rows, so each is read once per change.
 */
interface GenesisIndex {
  writes: number
  geneses: Map<string, Genesis | undefined>
  uses: Map<string, InviteUse[]> | null
}
type Genesis = { proof: unknown; at: number }
const genesisIndexes = new WeakMap<ChainStore, Map<string, GenesisIndex>>()

function genesisIndex(store: ChainStore, dnaHash: Uint8Array): GenesisIndex {
  const writes = store.writeCount()
  const perDna = genesisIndexes.get(store) ?? genesisIndexes.set(store, new Map()).get(store)!
  const key = Buffer.from(dnaHash).toString('latin1')
  const held = perDna.get(key)
  if (held?.writes === writes) return held
  const fresh = { writes, geneses: new Map(), uses: null }
  perDna.set(key, fresh)
  return fresh
}

function heldInviteUses(store: ChainStore, dnaHash: Uint8Array): ReadonlyMap<string, readonly InviteUse[]> {
  const index = genesisIndex(store, dnaHash)
  if (index.uses !== null) return index.uses
  const uses = new Map<string, InviteUse[]>()
  for (const { author } of store.chainHeads(dnaHash)) {
    const genesis = heldGenesis(store, dnaHash, author)
    const invite = genesis === undefined ? null : inviteIdOf(genesis.proof)
    if (genesis === undefined || invite === null) continue
    const use = { agent: encodeHashB64(author), at: redeemedAt(genesis.proof, genesis.at) }
    uses.set(invite, [...(uses.get(invite) ?? []), use])
  }
  index.uses = uses
  return uses
}

/** A record this peer does not hold, got and checked elsewhere (a get from holders), and its entry. */
export interface RecordBeside {
  action: StoredAction
  entry: StoredEntry | null
}

/**
 * `source` with records got from holders beside it: a record fetched from its neighbourhood is judged
 * by what it builds on, fetched and checked the same way, without storing either.
 */
export function withRecords(source: RecordSource, beside: readonly RecordBeside[]): RecordSource {
  return {
    ...source,
    findAction: (hash) =>
      source.findAction(hash) ?? beside.find((r) => hashesEqual(r.action.hash, hash))?.action ?? null,
    findEntry: (hash) =>
      source.findEntry(hash) ?? beside.find((r) => r.entry && hashesEqual(r.entry.hash, hash))?.entry ?? null,
  }
}

/** `author`'s genesis in a DNA: its membrane proof (decoded; null: none) and when it was written (µs). */
function heldGenesis(store: ChainStore, dnaHash: Uint8Array, author: Uint8Array): Genesis | undefined {
  const { geneses } = genesisIndex(store, dnaHash)
  const key = Buffer.from(author).toString('latin1')
  if (geneses.has(key)) return geneses.get(key)
  const genesis = readGenesis(store, dnaHash, author)
  geneses.set(key, genesis)
  return genesis
}

function readGenesis(store: ChainStore, dnaHash: Uint8Array, author: Uint8Array): Genesis | undefined {
  // Seq 1 of every chain is its AgentValidationPkg.
  const stored = store.chainRange(dnaHash, author, 1, 1)[0]
  if (stored === undefined) return undefined
  const key = Buffer.from(stored.hash).toString('latin1')
  let proof = genesisProofs.get(key)
  if (proof === undefined && !genesisProofs.has(key)) {
    const action = decodeAction(stored.bytes)
    proof =
      action?.type !== ActionTypes.AgentValidationPkg || !action.membrane_proof
        ? null
        : decodeMsgpack(action.membrane_proof)
    if (genesisProofs.size >= GENESIS_PROOFS_HELD) genesisProofs.clear()
    genesisProofs.set(key, proof)
  }
  return { proof, at: stored.timestamp }
}

/** The entry type name of a Create/Update ('Agent' for the agent key), or null. */
export function entryTypeName(action: Action, dna: DnaDef): string | null {
  if (action.type !== ActionTypes.Create && action.type !== ActionTypes.Update) return null
  if (action.entry_type === 'Agent') return 'Agent'
  if (typeof action.entry_type !== 'object' || !('App' in action.entry_type)) return null
  return dna.entryTypes[action.entry_type.App.entry_index] ?? null
}

/** A record of this DNA as the rules see a dependency, or null when it is not held. */
export function resolveDependency(ctx: RulesContext, actionHash: Uint8Array): ResolvedDependency | null {
  const stored = ctx.source.findAction(actionHash)
  if (stored === null) return null
  const action = decodeAction(stored.bytes)
  const entry = stored.entryHash && ctx.source.findEntry(stored.entryHash)
  const dep: ResolvedDependency = {
    action_hash: encodeHashB64(stored.hash),
    author: encodeHashB64(stored.author),
    // Non-entry actions are named by their action type ('Delete', 'CreateLink', ...).
    entry_type: entryTypeName(action, ctx.dna) ?? action.type,
    entry: entry?.kind === 'App' ? decodeMsgpack(entry.bytes) : null,
  }
  if (action.type === ActionTypes.Update)
    dep.original_action_hash = encodeHashB64(action.original_action_address)
  return dep
}

/**
 * Runs the rules on one entry op by `author`. Throws InvalidEntryError when a rule refuses it,
 * UnresolvedDependenciesError when the rules need records the source does not hold.
 */
export function checkEntryRules(
  ctx: RulesContext,
  author: Uint8Array,
  op: Pick<ValidationInput, 'entry_type' | 'op' | 'entry' | 'original'>,
): void {
  validateEntry(
    ctx.validator,
    {
      dna: ctx.dna.name,
      author: encodeHashB64(author),
      properties: ctx.properties,
      ...authorProof(ctx, author, op.entry_type),
      ...op,
    },
    (hashB64) => {
      try {
        return resolveDependency(ctx, decodeHashB64(hashB64, 'action'))
      } catch {
        return null
      }
    },
  )
}

/**
 * Roles come from invites: only a network that requires them hands the rules the author's proof. An
 * author whose genesis is not held here yet is awaited (UnresolvedDependenciesError, its agent key), not
 * judged: geneses reach every peer, but an op it pushed can arrive first, and read as "joined without an
 * invite" that would warrant an honest joiner. Its own genesis is judged without one.
 */
function authorProof(ctx: RulesContext, author: Uint8Array, entryType: string): { author_proof?: unknown } {
  if (ctx.properties.membrane !== 'invite') return {}
  const proof = ctx.source.genesisProof(author)
  const agent = encodeHashB64(author)
  if (proof === undefined && entryType !== MEMBRANE_PROOF_ENTRY_TYPE && agent !== ctx.properties.progenitor)
    throw new UnresolvedDependenciesError([agent])
  return { author_proof: proof }
}

/**
 * Runs the rules on a signed action as the HDK would have before writing it: app entry creates,
 * updates and deletes go through the Rust rules; a delete or link delete needs what it deletes.
 * `entry` is the entry the action wrote, already checked against its hash. Throws InvalidEntryError,
 * UnknownTypeError (an entry type the DNA lacks) or UnresolvedDependenciesError.
 */
export function checkActionRules(ctx: RulesContext, action: Action, entry: StoredEntry | null): void {
  switch (action.type) {
    case ActionTypes.Create:
    case ActionTypes.Update: {
      const entryType = entryTypeName(action, ctx.dna)
      if (entryType === 'Agent') return
      if (entryType === null || (entry !== null && entry.kind !== 'App')) {
        throw new UnknownTypeError(`${ctx.dna.name} has no such app entry type`)
      }
      // A public type written as private would withhold what every peer must check, and the reverse
      // would publish what must stay with its author.
      if (writesPrivateEntry(action) !== (visibilityOf(ctx.dna, entryType) === 'Private')) {
        throw new UnknownTypeError(`${entryType} is ${visibilityOf(ctx.dna, entryType).toLowerCase()}`)
      }
      // A private entry's action, without its entry: only its author (and those it shows) can check it.
      if (entry === null) {
        if (writesPrivateEntry(action)) return
        throw new UnknownTypeError(`${ctx.dna.name} has no such app entry type`)
      }
      if (action.type === ActionTypes.Create) {
        checkEntryRules(ctx, action.author, {
          entry_type: entryType,
          op: 'create',
          entry: decodeEntry(entry),
        })
        return
      }
      const original = requireDependency(ctx, action.original_action_address, action.original_entry_address)
      checkEntryRules(ctx, action.author, {
        entry_type: entryType,
        op: 'update',
        entry: decodeEntry(entry),
        original,
      })
      return
    }
    case ActionTypes.Delete: {
      const original = requireDependency(ctx, action.deletes_address, action.deletes_entry_address)
      checkEntryRules(ctx, action.author, {
        entry_type: original.entry_type,
        op: 'delete',
        entry: null,
        original,
      })
      return
    }
    // The genesis' membrane proof: its signature here, what it grants in the rules.
    case ActionTypes.AgentValidationPkg: {
      const entry = membraneRulesEntry(action.membrane_proof, action.timestamp)
      const inviteId = inviteIdOf(entry.proof)
      const author = encodeHashB64(action.author)
      const at = redeemedAt(entry.proof, action.timestamp)
      const priorUses = inviteId === null ? 0 : usesBefore(ctx.source.inviteUses(inviteId), author, at)
      const issuer = (entry.proof as Partial<MembraneProof> | null)?.grant?.issuer
      const witness = witnessOf(entry.proof)
      checkEntryRules(ctx, action.author, {
        entry_type: MEMBRANE_PROOF_ENTRY_TYPE,
        op: 'create',
        entry: {
          ...entry,
          issuer_proof: memberProof(ctx, issuer, author),
          ...(witness === null ? legacyFacts(ctx, inviteId, author) : witnessFacts(ctx, witness, author)),
          prior_uses: priorUses,
        },
      })
      return
    }
    case ActionTypes.DeleteLink: {
      const link = ctx.source.findAction(action.link_add_address)
      if (link === null) throw new UnresolvedDependenciesError([encodeHashB64(action.link_add_address)])
      if (link.type !== ActionTypes.CreateLink) {
        throw new InvalidEntryError('sys.delete_link_target', 'a link delete must name a CreateLink action')
      }
      return
    }
    default:
      return
  }
}

/**
 * The genesis proof of `agent` (the issuer of a grant, or the witness of its redemption), when that is
 * not the progenitor: what makes it an admin who may invite, or a member who may witness. Awaited
 * (UnresolvedDependenciesError) while that genesis has not arrived; null when `agent` is the progenitor
 * or names no agent.
 */
function memberProof(ctx: RulesContext, agent: unknown, author: string): unknown {
  if (
    ctx.properties.membrane !== 'invite' ||
    typeof agent !== 'string' ||
    agent === ctx.properties.progenitor ||
    // Nobody admits itself: its own genesis is the one being judged.
    agent === author
  )
    return null
  let key: Uint8Array
  try {
    key = decodeHashB64(agent, 'agent')
  } catch {
    return null
  }
  const held = ctx.source.genesisProof(key)
  if (held === undefined) throw new UnresolvedDependenciesError([agent])
  return held
}

/**
 * What the rules judge a witness by beyond its proof: barred here (revoked, warranted), and when it was
 * itself admitted (awaited with its genesis by memberProof; absent for the progenitor).
 */
function witnessFacts(ctx: RulesContext, witness: string, author: string) {
  const proof = memberProof(ctx, witness, author)
  const since =
    proof === null || witness === author ? null : ctx.source.admittedAt(decodeHashB64(witness, 'agent'))
  return { witness_proof: proof, witness_barred: ctx.standing.barred(witness), witness_since: since ?? null }
}

/** For a genesis without a witness: whether the admins' seal of legacy grants lists its use (none held: absent). */
function legacyFacts(ctx: RulesContext, inviteId: string | null, author: string) {
  const sealed = ctx.standing.legacySealed()
  if (sealed === null || inviteId === null) return {}
  return { legacy_listed: sealed.has(sealedUseKey(inviteId, author)) }
}

/** The record an update or delete names, which must have written the entry the action says it did. */
function requireDependency(
  ctx: RulesContext,
  actionHash: Uint8Array,
  entryHash: Uint8Array,
): ResolvedDependency {
  const stored = ctx.source.findAction(actionHash)
  if (stored === null) throw new UnresolvedDependenciesError([encodeHashB64(actionHash)])
  if (stored.entryHash === null || !hashesEqual(stored.entryHash, entryHash)) {
    throw new InvalidEntryError(
      'sys.original_entry',
      'the original entry address is not what the action wrote',
    )
  }
  return resolveDependency(ctx, actionHash)!
}

function decodeEntry(entry: StoredEntry): unknown {
  try {
    return decodeMsgpack(entry.bytes)
  } catch {
    throw new InvalidEntryError('sys.entry_bytes', 'the entry is not valid msgpack')
  }
}
