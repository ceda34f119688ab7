/**
 * What a simulated peer writes to the record (issue 57), as the daemon writes it: real signed actions of
 * resource_mesh on one chain per author. Every record slot a member signs its cover pair, a ServedLeaves
 * (private: the action travels, the entry stays on its chain) over a cover leaf and the ServedBatch
 * publishing its root (served-records.ts); a runner signs an AnswerLeaves (private) and AnswerBatch
 * pair for each window in which it answered. So every op pushed, checked and stored has the bytes and
 * size of the real one. Genesis is not written: its actions live everywhere, not in a neighbourhood.
 */
import { randomBytes } from 'node:crypto'
import type { Action } from '@holochain/client'
import { signAction, toStoredAction, writesPrivateEntry } from '../../host/conductor/embedded/action.ts'
import { ActionTypes } from '../../host/conductor/embedded/hc-enums.ts'
import type { WireOp } from '../../host/conductor/embedded/replication/op-wire.ts'
import { encodeCanonical } from '../../host/identity/canonical.ts'
import { encodeHashB64, hashContent, holoHashFrom32 } from '../../host/identity/hash.ts'
import type { AgentKey } from '../../host/identity/keystore.ts'
import { coverLeaf } from '../../host/requests/direct/served-leaf.ts'
import type { StoredAction, StoredEntry } from '../../host/storage/chain-store.ts'
import {
  type AnswerLeaf,
  answerLeavesOf,
  publicTotals,
  SERVED_PUBLIC,
  servedLeavesOf,
} from '../../zomes-bindings/resource_mesh_batches.ts'
import { resourceMesh } from '../../zomes-bindings/resource_mesh_zome.ts'

/** The simulation's resource_mesh DNA: one hash for every peer of a run. */
export const SIM_DNA_HASH = holoHashFrom32(new Uint8Array(32).fill(57), 'dna')
/** Genesis is Dna, AgentValidationPkg, Create (agent), InitZomesComplete: the record starts after it. */
const FIRST_SEQ = 4

type EntryType = keyof typeof resourceMesh.entryTypes
const entryIndex = (type: EntryType) => Object.keys(resourceMesh.entryTypes).indexOf(type)
const isPrivate = (type: EntryType) => (resourceMesh.privateEntryTypes as readonly string[]).includes(type)
const hex = () => randomBytes(32).toString('hex')
const COVER_INDICES = [entryIndex('ServedLeaves'), entryIndex('ServedBatch')]

/** Whether an action writes cover (a requester's ServedLeaves or ServedBatch: every slot, asked or not). */
export function isCover(action: Action): boolean {
  const app =
    action.type === ActionTypes.Create && typeof action.entry_type === 'object' ? action.entry_type.App : null
  return app !== null && COVER_INDICES.includes(app.entry_index)
}

/** An op as its author holds it: the row, the entry (private ones too) and what travels. */
export interface WrittenOp {
  row: StoredAction
  entry: StoredEntry
  wire: WireOp
  /** The public batch of a pair (what a far reader gets), not its leaves. */
  batch: boolean
  cover: boolean
}

/** Bytes one op takes where it is held: its hash, action bytes, signature, and its entry when it travels. */
export function heldBytes(op: WireOp, hash: Uint8Array): number {
  return hash.length + op.action.length + op.signature.length + (op.entry?.length ?? 0)
}

/** One author's resource_mesh chain: each pair it signs follows the last. */
export class SimChain {
  readonly #key: AgentKey
  #seq = FIRST_SEQ
  /** A genesis nobody else holds: the first action's previous action. */
  #prev: Uint8Array = holoHashFrom32(randomBytes(32), 'action')
  #timestamp = 0

  constructor(key: AgentKey) {
    this.#key = key
  }

  get author(): string {
    return encodeHashB64(this.#key.agentPubKey)
  }

  /** A slot's cover: one cover leaf under a root, and the public batch that says nothing. */
  cover(openedAt: number, closedAt: number): WrittenOp[] {
    const leaves = servedLeavesOf([coverLeaf(this.author)])
    return this.#pair(['ServedLeaves', leaves], ['ServedBatch', { ...SERVED_PUBLIC, root: leaves.root }], {
      openedAt,
      closedAt,
    })
  }

  /** A runner's window of `count` answers (requesters drawn at random: their keys' sizes are real). */
  answers(count: number, requesters: readonly string[], openedAt: number, closedAt: number): WrittenOp[] {
    const leaves = answerLeavesOf(
      Array.from(
        { length: count },
        (_, i): AnswerLeaf => ({
          request: hex(),
          requester: requesters[i % requesters.length] ?? this.author,
          model: 'm0',
          model_file_hash: hex(),
          status: 'ok',
          output_hash: hex(),
          tokens_in: 200,
          tokens_out: 300,
          started_at: openedAt,
          finished_at: closedAt,
        }),
      ),
    )
    const batch = { root: leaves.root, totals: publicTotals(leaves.totals) }
    return this.#pair(['AnswerLeaves', leaves], ['AnswerBatch', batch], { openedAt, closedAt })
  }

  #pair(
    [leavesType, leaves]: [EntryType, unknown],
    [batchType, batch]: [EntryType, Record<string, unknown>],
    window: { openedAt: number; closedAt: number },
  ): WrittenOp[] {
    const first = this.#write(leavesType, leaves, false)
    const leavesHash = encodeHashB64(first.entry.hash)
    const second = this.#write(
      batchType,
      { ...batch, leaves: leavesHash, opened_at: window.openedAt, closed_at: window.closedAt },
      true,
    )
    return [first, second]
  }

  #write(type: EntryType, fields: unknown, batch: boolean): WrittenOp {
    const bytes = encodeCanonical(fields)
    const entry: StoredEntry = { hash: hashContent(bytes, 'entry'), kind: 'App', bytes }
    this.#timestamp = Math.max(this.#timestamp + 1, Date.now() * 1000)
    const content = {
      type: ActionTypes.Create,
      author: this.#key.agentPubKey,
      timestamp: this.#timestamp,
      action_seq: this.#seq++,
      prev_action: this.#prev,
      entry_type: {
        App: {
          entry_index: entryIndex(type),
          zome_index: 0,
          visibility: isPrivate(type) ? 'Private' : 'Public',
        },
      },
      entry_hash: entry.hash,
    } as Action
    const signed = signAction(content, this.#key)
    this.#prev = signed.hash
    const row = toStoredAction(signed, SIM_DNA_HASH)
    const wire = {
      action: signed.bytes,
      signature: signed.signature,
      entry: writesPrivateEntry(content) ? null : bytes,
    }
    return { row, entry, wire, batch, cover: isCover(content) }
  }
}
