/**
 * The storage port of the embedded conductor: actions (every agent's chain, per DNA), entries
 * (content-addressed) and a links index. Rows hold bytes exactly as hashed and signed, so a reader can
 * re-verify them; the source chain, not the store, interprets them.
 */

/** One action as stored: `bytes` is the msgpack of the action content, what was hashed and signed. */
export interface StoredAction {
  hash: Uint8Array
  dnaHash: Uint8Array
  author: Uint8Array
  seq: number
  /** The action type ('Dna', 'Create', 'CreateLink', ...). */
  type: string
  /** Microseconds since the Unix epoch. */
  timestamp: number
  /** Create / Update: the entry written. */
  entryHash: Uint8Array | null
  /** Update: the original action; Delete: the deleted action; DeleteLink: the CreateLink. */
  targetAction: Uint8Array | null
  bytes: Uint8Array
  signature: Uint8Array
  /**
   * A held op (issue 57): kept out of its author's chain order (a record this peer holds for its
   * basis, or an everywhere one), so no chain-walking read lists it until its chain reaches it.
   * Absent on a chain action.
   */
  held?: true
}

export interface StoredEntry {
  hash: Uint8Array
  /** 'App': msgpack app entry bytes; 'Agent': the agent's public key hash. */
  kind: 'App' | 'Agent'
  bytes: Uint8Array
}

export interface StoredLink {
  createHash: Uint8Array
  dnaHash: Uint8Array
  base: Uint8Array
  target: Uint8Array
  zomeIndex: number
  linkType: number
  tag: Uint8Array
  author: Uint8Array
  timestamp: number
  /** The first DeleteLink action that removed it, or null while live. */
  deletedBy: Uint8Array | null
}

/** What one action adds to the store besides itself. */
export interface CommitItem {
  action: StoredAction
  entry?: StoredEntry
  link?: Omit<StoredLink, 'deletedBy'>
  /** The CreateLink hash this action (a DeleteLink) removes. */
  deletesLink?: Uint8Array
  /** The keys its entry is looked up by on its author's chain (the entry-key index), with its type. */
  keyed?: { entryType: string; keys: readonly string[] }
}

/** One row of the entry-key index: an entry of `entryType` on a chain, found by `key`. */
export interface EntryKeyRow {
  entryType: string
  key: string
  seq: number
  actionHash: Uint8Array
}

export interface ChainHead {
  hash: Uint8Array
  seq: number
}

/** The key rules' version a chain's entry-key index was built by, and the chain head it covers (null: unknown). */
export interface EntryKeyIndexState {
  version: number
  head: ChainHead | null
}

/**
 * The last verified head of a chain, so start-up verifies only what came after it: `digest` is the
 * SHA-256 of the verified history (`chainDigestBlobs` up to `seq`, in order) and `mac` an HMAC by the
 * chain owner's key over all of it, so changed history or a forged checkpoint is noticed.
 */
export interface ChainCheckpoint extends ChainHead {
  timestamp: number
  digest: Uint8Array
  mac: Uint8Array
}

/** One agent's chain head, as anti-entropy summaries list them. */
export interface AuthorHead extends ChainHead {
  author: Uint8Array
}

/**
 * Proof-less record that an agent signed something the rules or the chain checks refuse: its later
 * ops are ignored. Issued by this peer (`reportedBy`) on what it received itself.
 */
export interface Warrant {
  /** The agent warranted. */
  author: Uint8Array
  dnaHash: Uint8Array
  /** The rule or check that failed: a rules id ('node_capability.name_length') or 'sys.*' / 'chain.*'. */
  rule: string
  reason: string
  /** The offending action, when there is one. */
  actionHash: Uint8Array | null
  /** The agent that issued the warrant. */
  reportedBy: Uint8Array
  /** Microseconds since the Unix epoch, like action timestamps. */
  timestamp: number
}

export interface LinkQuery {
  dnaHash: Uint8Array
  base: Uint8Array
  linkType?: number
  tagPrefix?: Uint8Array
  /** Also return deleted links. */
  includeDeleted?: boolean
}

export interface ChainStore {
  /**
   * Appends actions to one agent's chain in a single transaction: all of them are stored or none.
   * Throws ChainHeadMovedError unless the chain's head is still `expectedHead` (null: empty chain).
   * An action held here already (holdOps) becomes part of the chain, its rows kept.
   */
  appendToChain(
    dnaHash: Uint8Array,
    author: Uint8Array,
    expectedHead: Uint8Array | null,
    items: CommitItem[],
  ): void
  /**
   * Stores ops out of chain order, marked held (docs/record.md: what a peer keeps for its basis, or
   * everywhere, of a chain it does not keep): every hash-based read finds them (getAction, getEntry,
   * getLinks, actionsWritingEntry, actionsTargeting), no chain-walking read does (chainHead(s),
   * chainActions, chainRange, chainDigestBlobs). An item whose action is stored already is skipped.
   * appendToChain promotes a held row when the chain reaches it.
   */
  holdOps(items: CommitItem[]): void
  /** The action stored at `seq` of a chain, held or in the chain, or null (a fork check). */
  actionAt(dnaHash: Uint8Array, author: Uint8Array, seq: number): StoredAction | null
  /** The held ops of a DNA (not in any chain here), oldest first. */
  heldActions(dnaHash: Uint8Array): Iterable<StoredAction>
  /**
   * Forgets a held op (a replay of another DNA's action found not to be of this chain), with the link
   * it wrote or the deletion it marked; its entry stays (content-addressed, perhaps shared). False when
   * no held row of that hash was here (a chain row is never dropped).
   */
  dropHeld(hash: Uint8Array): boolean
  chainHead(dnaHash: Uint8Array, author: Uint8Array): ChainHead | null
  /** The chain's actions in seq order, from `fromSeq` (default 0) on. */
  chainActions(dnaHash: Uint8Array, author: Uint8Array, fromSeq?: number): Iterable<StoredAction>
  /**
   * Per action up to `toSeq`, in seq order: every column of its row (hash, signature, bytes, seq,
   * type, timestamp, entry hash, target), of its entry's row and of its link index row (when it has
   * them, a link's deletion aside), each part as `<length>:<bytes>` (a null one `-`), concatenated
   * (ChainDigest in the conductor writes the same). What a checkpoint's digest covers: cheap to
   * read, no decoding.
   */
  chainDigestBlobs(dnaHash: Uint8Array, author: Uint8Array, toSeq: number): Iterable<Uint8Array>
  chainCheckpoint(dnaHash: Uint8Array, author: Uint8Array): ChainCheckpoint | null
  setChainCheckpoint(dnaHash: Uint8Array, author: Uint8Array, checkpoint: ChainCheckpoint): void
  /** The head of every chain held in the DNA (this agent's and the ones replicated here). */
  chainHeads(dnaHash: Uint8Array): AuthorHead[]
  /** Rows written so far (any table): equal on two calls when nothing was written in between. */
  writeCount(): number
  /** Up to `limit` actions of a chain from `fromSeq` on, in seq order. */
  chainRange(dnaHash: Uint8Array, author: Uint8Array, fromSeq: number, limit: number): StoredAction[]
  /**
   * Runs `fn` in one transaction (writes nest inside it), rolled back if `fn` throws. The commit
   * survives the process being killed; a power cut may lose it until the next `flush` (or at once
   * with `durable: true`). Commits stay ordered, so a power cut loses a suffix of them, never one
   * from the middle. Ops replicated from peers need no flush (anti-entropy fetches them again);
   * this agent's own commits are flushed before anyone sees them, since a lost commit re-signed
   * differently would fork the chain.
   */
  transaction<T>(fn: () => T, options?: { durable?: boolean }): T
  /** Resolves once every commit made before the call is on disk (one sync serves many commits). */
  flush(): Promise<void>
  addWarrant(warrant: Warrant): void
  /** Every warrant, oldest first. */
  listWarrants(): readonly Warrant[]
  getAction(hash: Uint8Array): StoredAction | null
  getEntry(hash: Uint8Array): StoredEntry | null
  /** Create / Update actions in the DNA that wrote this entry, oldest first. */
  actionsWritingEntry(dnaHash: Uint8Array, entryHash: Uint8Array): StoredAction[]
  /** Updates, deletes and link deletes that point at this action, oldest first. */
  actionsTargeting(actionHash: Uint8Array): StoredAction[]
  /**
   * The newest action of a chain that wrote an entry of `entryType` under `key` (the entry-key index,
   * one SQLite index look-up at any chain length), or null.
   */
  findKeyed(dnaHash: Uint8Array, author: Uint8Array, entryType: string, key: string): StoredAction | null
  /**
   * A chain's actions that wrote an entry of `entryType` with a key in [`fromKey`, `toKey`), oldest
   * first: one index range, as long as what it finds at any chain length.
   */
  findKeyedRange(
    dnaHash: Uint8Array,
    author: Uint8Array,
    entryType: string,
    fromKey: string,
    toKey: string,
  ): StoredAction[]
  /** What built a chain's entry-key index and how far it reaches; null when none was built. */
  entryKeyIndex(dnaHash: Uint8Array, author: Uint8Array): EntryKeyIndexState | null
  /**
   * Adds `rows` to a chain's entry-key index (in place of all it held with `replace`), built by
   * `version` of the key rules through `head`, in one transaction.
   */
  setEntryKeyIndex(
    dnaHash: Uint8Array,
    author: Uint8Array,
    index: EntryKeyIndexState & { rows: EntryKeyRow[]; replace: boolean },
  ): void
  getLink(createHash: Uint8Array): StoredLink | null
  /** Links on a base, oldest first; live only unless `includeDeleted`. */
  getLinks(query: LinkQuery): StoredLink[]
  close(): void
}

/** Thrown when a chain's head moved under a writer (two writers on one chain would fork it). */
export class ChainHeadMovedError extends Error {
  static override readonly name = 'ChainHeadMovedError'
  constructor(message = 'the source chain head moved during the write; nothing was written') {
    super(message)
    this.name = 'ChainHeadMovedError'
  }
}

/**
 * Thrown by appendToChain when another action is stored at a seq it appends (held out of chain order:
 * a fork, or a replay from another DNA, for the caller to judge); nothing of that append was written.
 */
export class SeqTakenError extends Error {
  static override readonly name = 'SeqTakenError'
  constructor(readonly seq: number) {
    super(`another action is stored at seq ${seq} of this chain`)
    this.name = 'SeqTakenError'
  }
}
