/**
 * One agent's source chain in one DNA: genesis on first open, verification on every open (from the
 * last verified head when its checkpoint holds, see ./chain-checkpoint.ts), and hash-linked, signed
 * appends, each commit moving the checkpoint with it. Writes gather in a ChainWrite (Holochain's scratch space) and commit in
 * one store transaction, so a zome call lands whole or not at all.
 */
import type { Action, Dna } from '@holochain/client'
import { retypeHash } from '../../identity/hash.ts'
import type { AgentKey } from '../../identity/keystore.ts'
import type { MembraneProof } from '../../identity/membrane-grant.ts'
import { nowMicros } from '../../runtime/clock.ts'
import type { ChainStore, CommitItem, StoredAction, StoredEntry } from '../../storage/chain-store.ts'
import { entryHashOfKind, type SignedAction, signAction, toCommitItem, toStoredAction } from './action.ts'
import { checkpointKey, signCheckpoint, trustedCheckpoint } from './chain-checkpoint.ts'
import { ChainDigest } from './chain-digest.ts'
import { type VerifiedHead, verifyChain } from './chain-verify.ts'
import { ActionTypes } from './hc-enums.ts'
import { encodeMembraneProof } from './validation/membrane-proof.ts'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** An action as a zome asks for it; the chain fills in author, timestamp, seq and prev_action. */
export type ActionDraft = DistributiveOmit<
  Exclude<Action, Dna>,
  'author' | 'timestamp' | 'action_seq' | 'prev_action'
>

/** An app or agent entry to store with a Create/Update. */
export interface EntryDraft {
  kind: StoredEntry['kind']
  bytes: Uint8Array
}

/** One committed action with what it stored: handed to `opsCommitted` listeners. */
export interface CommittedAction {
  action: StoredAction
  content: Action
  entry: StoredEntry | null
}

export interface SourceChainInit {
  store: ChainStore
  dnaName: string
  dnaHash: Uint8Array
  key: AgentKey
  /** Written into genesis (the AgentValidationPkg): the invite that admits this agent, if any. */
  membraneProof?: MembraneProof | null
  /** Microseconds since the epoch; injectable for tests. */
  now?: () => number
}

/** What a ChainWrite needs from its chain, kept off the chain's public surface. */
interface ChainWriter {
  readonly dnaHash: Uint8Array
  readonly agentPubKey: Uint8Array
  sign(content: Action): SignedAction
  /** Holochain requires each action's timestamp to be later than the one before it. */
  timestampAfter(prev: number): number
  /** `base` null: the first commit (genesis) on an empty chain. */
  commit(base: VerifiedHead | null, items: CommitItem[], head: VerifiedHead): void
}

export class SourceChain {
  readonly dnaHash: Uint8Array
  readonly agentPubKey: Uint8Array
  readonly #writer: ChainWriter
  #head: VerifiedHead

  private constructor(init: SourceChainInit, head: VerifiedHead, digest: ChainDigest) {
    const now = init.now ?? nowMicros
    const { store, dnaHash } = init
    const agent = init.key.agentPubKey
    const macKey = checkpointKey(init.key)
    this.dnaHash = dnaHash
    this.agentPubKey = agent
    this.#head = head
    this.#writer = {
      dnaHash,
      agentPubKey: agent,
      sign: (content) => signAction(content, init.key),
      timestampAfter: (prev) => Math.max(now(), prev + 1),
      commit: (base, items, next) => {
        if (items.length === 0) return
        // The checkpoint moves in the same transaction: it never runs ahead of or behind the head.
        // Genesis is synced at once (the chain opens synchronously); later commits are flushed by
        // their zome call before it answers or peers see them.
        store.transaction(
          () => {
            store.appendToChain(dnaHash, agent, base?.hash ?? null, items)
            digest.addItems(items)
            store.setChainCheckpoint(
              dnaHash,
              agent,
              signCheckpoint(macKey, dnaHash, agent, next, digest.value()),
            )
          },
          { durable: base === null },
        )
        this.#head = next
      },
    }
  }

  /**
   * Opens the chain, verifying what its checkpoint does not vouch for (all of it without one;
   * ChainIntegrityError if broken), or writes genesis if empty.
   */
  static open(init: SourceChainInit): SourceChain {
    const { store, dnaHash } = init
    const agent = init.key.agentPubKey
    const macKey = checkpointKey(init.key)
    const trusted = trustedCheckpoint(store, macKey, dnaHash, agent)
    const digest = trusted?.digest ?? new ChainDigest()
    const head = verifyChain(store, init.dnaName, dnaHash, agent, trusted?.head ?? null, digest)
    if (head !== null) {
      if (head.seq !== trusted?.head.seq) {
        store.setChainCheckpoint(dnaHash, agent, signCheckpoint(macKey, dnaHash, agent, head, digest.value()))
      }
      return new SourceChain(init, head, digest)
    }
    const timestamp = init.now?.() ?? nowMicros()
    const dna = signAction({ type: ActionTypes.Dna, author: agent, timestamp, hash: dnaHash }, init.key)
    const chain = new SourceChain(init, { hash: dna.hash, seq: 0, timestamp }, digest)
    const write = chain.beginWrite()
    const proof = init.membraneProof ? encodeMembraneProof(init.membraneProof) : null
    write.append({ type: ActionTypes.AgentValidationPkg, membrane_proof: proof })
    write.append(
      { type: ActionTypes.Create, entry_type: 'Agent', entry_hash: retypeHash(agent, 'entry') },
      { kind: 'Agent', bytes: agent },
    )
    write.append({ type: ActionTypes.InitZomesComplete })
    // Genesis is one transaction from an empty chain: a crash leaves no chain or a whole genesis.
    chain.#writer.commit(null, [{ action: toStoredAction(dna, dnaHash) }, ...write.items], write.head)
    return chain
  }

  get head(): VerifiedHead {
    return this.#head
  }

  /** Starts a batch of appends on top of the current head; nothing is stored until `commit`. */
  beginWrite(): ChainWrite {
    return new ChainWrite(this.#writer, this.#head)
  }
}

/** Pending appends (the scratch space): readable before commit, stored all at once. */
export class ChainWrite {
  readonly #writer: ChainWriter
  readonly #base: VerifiedHead
  readonly #items: CommitItem[] = []
  readonly #contents: Action[] = []
  #head: VerifiedHead
  /** The time the actions appended from now on are stamped from (holdTime), or null: each its own. */
  #heldAt: number | null = null

  constructor(writer: ChainWriter, base: VerifiedHead) {
    this.#writer = writer
    this.#base = base
    this.#head = base
  }

  get head(): VerifiedHead {
    return this.#head
  }

  get items(): readonly CommitItem[] {
    return this.#items
  }

  /**
   * Signs the next action (prev_action, action_seq, timestamp from the pending head) and holds it,
   * with the keys its entry is indexed by, if any.
   */
  /**
   * Stamps the actions appended from now on with this instant (each a microsecond after the one
   * before), not with when each was signed: a write whose validation takes longer with what it holds
   * then shows nothing of that in its public times.
   */
  holdTime(): void {
    this.#heldAt = this.#writer.timestampAfter(this.#head.timestamp)
  }

  append(draft: ActionDraft, entry?: EntryDraft, keyed?: CommitItem['keyed']): SignedAction {
    const writer = this.#writer
    const prev = this.#head.timestamp
    const timestamp = this.#heldAt === null ? writer.timestampAfter(prev) : Math.max(this.#heldAt, prev + 1)
    const content = {
      ...draft,
      author: writer.agentPubKey,
      timestamp,
      action_seq: this.#head.seq + 1,
      prev_action: this.#head.hash,
    } as Action
    const signed = writer.sign(content)
    const action = toStoredAction(signed, writer.dnaHash)
    const stored = entry
      ? { hash: entryHashOfKind(entry.kind, entry.bytes), kind: entry.kind, bytes: entry.bytes }
      : null
    const item = toCommitItem(content, action, stored)
    if (keyed) item.keyed = keyed
    this.#items.push(item)
    this.#contents.push(content)
    this.#head = { hash: signed.hash, seq: action.seq, timestamp }
    return signed
  }

  /** Stores every pending action in one transaction (ChainHeadMovedError if another write won). */
  commit(): CommittedAction[] {
    this.#writer.commit(this.#base, this.#items, this.#head)
    return this.#items.map((item, i) => ({
      action: item.action,
      content: this.#contents[i]!,
      entry: item.entry ?? null,
    }))
  }
}
