/**
 * resource_mesh at the mesh's scale: requests routed straight to a runner are recorded in batches, not
 * one public action each. A runner signs one `AnswerBatch` per short window (public: the Merkle root of
 * its answers' leaves and their count) beside the leaves themselves (`AnswerLeaves`, a private
 * entry: on its own chain, withheld from the mesh). Each requester gets its leaf and proof on the stream
 * and signs its own `ServedBatch` (public) over `ServedLeaves` (private): per request, the runner's leaf,
 * its proof against the runner's batch, the output it served and whether that is what the runner signed.
 * Prompts and outputs are in none of them: a bystander holds roots and counts only.
 *
 * The Merkle tree is RFC 9162's (leaf = H(0x00 || bytes), node = H(0x01 || left || right), split at the
 * largest power of two below n), with H = blake2b-256, over the leaf bytes `answerLeafBytes` and
 * `servedLeafBytes` spell out; host/record/merkle.ts and the rules crate compute it alike.
 */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  AgentPubKeyB64Schema,
  EntryHashB64Schema,
  entryRecord,
  int,
  LIMITS,
  list,
  ModelNameSchema,
  ReasonSchema,
  Sha256HexSchema,
  TimestampSchema,
} from './common.ts'
import { merkleRoot } from './merkle.ts'

const B = LIMITS.batch
const TokensSchema = int(LIMITS.result.tokens)

/** A blake2b-256 digest (a Merkle root or node), as 64 lowercase hex characters. */
export const DigestHexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')

/** One answer as its runner signs it into a batch: what was asked (by hash), by whom, what came out. */
export const AnswerLeafSchema = z
  .strictObject({
    /** sha256 of the request as sent (`requestHash`): what `x-ripple-task` names. */
    request: Sha256HexSchema,
    requester: AgentPubKeyB64Schema,
    model: ModelNameSchema,
    /** The model file that produced it; null when the run failed before the runner could tell. */
    model_file_hash: Sha256HexSchema.nullable(),
    status: z.enum(['ok', 'error']),
    /** sha256 of the output's canonical JSON (`outputHash`); of null for an error. */
    output_hash: Sha256HexSchema,
    tokens_in: TokensSchema,
    tokens_out: TokensSchema,
    started_at: TimestampSchema,
    finished_at: TimestampSchema,
  })
  .refine((l) => l.finished_at >= l.started_at, {
    message: 'finished_at must not be before started_at',
    path: ['finished_at'],
  })
export type AnswerLeaf = z.infer<typeof AnswerLeafSchema>

/** Counts and token totals of a batch: what the rules check the leaves against. */
export const BatchTotalsSchema = z.strictObject({
  count: int(B.leaves),
  tokens_in: TokensSchema,
  tokens_out: TokensSchema,
})
export type BatchTotals = z.infer<typeof BatchTotalsSchema>

/** Entry type `AnswerLeaves` (private): a runner's answers of one window; its root and totals are theirs. */
export const AnswerLeavesSchema = z.strictObject({
  root: DigestHexSchema,
  totals: BatchTotalsSchema,
  leaves: list(AnswerLeafSchema, B.leaves),
})
export type AnswerLeaves = z.infer<typeof AnswerLeavesSchema>

const windowRefine = <T extends { opened_at: number; closed_at: number }>(w: T) => w.closed_at >= w.opened_at
const WINDOW_MESSAGE = { message: 'closed_at must not be before opened_at', path: ['closed_at'] }

/** What every public batch says of its window: its leaves' root and count, citing the private leaves. */
const BatchFieldsSchema = z.strictObject({
  root: DigestHexSchema,
  /** The entry hash of the leaves entry it publishes the root of (withheld from the mesh). */
  leaves: EntryHashB64Schema,
  /** `publicTotals`: the count, tokens 0 (a release before 0.2.0 wrote its sums). */
  totals: BatchTotalsSchema,
  /** The boundaries of the window's slot on a grid every peer shares (batch-window.ts), not a request's. */
  opened_at: TimestampSchema,
  closed_at: TimestampSchema,
})

/** Entry type `AnswerBatch` (public): the root and totals of a runner's window, citing its private leaves. */
export const AnswerBatchSchema = BatchFieldsSchema.refine(windowRefine, WINDOW_MESSAGE)
export type AnswerBatch = z.infer<typeof AnswerBatchSchema>

/** What a requester holds of its runner's signature on one answer: the leaf and its path to the root. */
export const LeafProofSchema = z.strictObject({
  /** The runner's `AnswerBatch` action. */
  batch: ActionHashB64Schema,
  leaf: AnswerLeafSchema,
  index: int({ min: 0, max: B.leaves.max - 1 }),
  /** The batch's leaf count (the tree's shape, for checking the path). */
  count: int(B.leaves),
  /** Sibling digests from the leaf up (RFC 9162 audit path). */
  path: list(DigestHexSchema, B.proof),
})
export type LeafProof = z.infer<typeof LeafProofSchema>

/** One request as its requester records it: the runner's proof (null when none came) and what was served. */
export const ServedLeafSchema = z
  .strictObject({
    request: Sha256HexSchema,
    runner: AgentPubKeyB64Schema,
    model: ModelNameSchema,
    proof: LeafProofSchema.nullable(),
    /** sha256 of the output this peer served (`outputHash`). */
    output_hash: Sha256HexSchema,
    /** The runner signed this very request and output (its leaf, proven against its batch). */
    accepted: z.boolean(),
    reason: ReasonSchema,
  })
  .refine((s) => !s.accepted || s.proof !== null, {
    message: 'an accepted request needs the runner’s proof',
    path: ['proof'],
  })
  .refine((s) => s.accepted || s.reason.length > 0, {
    message: 'a request not accepted says why',
    path: ['reason'],
  })
export type ServedLeaf = z.infer<typeof ServedLeafSchema>

/** Entry type `ServedLeaves` (private): a requester's requests of one window. */
export const ServedLeavesSchema = z.strictObject({
  root: DigestHexSchema,
  totals: BatchTotalsSchema,
  accepted: int({ min: 0, max: B.leaves.max }),
  leaves: list(ServedLeafSchema, B.leaves),
})
export type ServedLeaves = z.infer<typeof ServedLeavesSchema>

/** Entry type `ServedBatch` (public): the root and totals of what a requester served in a window. */
export const ServedBatchSchema = BatchFieldsSchema.extend({ accepted: int({ min: 0, max: B.leaves.max }) })
  .refine(windowRefine, WINDOW_MESSAGE)
  .refine((b) => b.accepted <= b.totals.count, {
    message: 'accepted must not exceed the count',
    path: ['accepted'],
  })
export type ServedBatch = z.infer<typeof ServedBatchSchema>

/** A window's leaves (private) and its public batch, written together in one call. */
const windowOf = <T extends z.ZodType>(leaves: T) =>
  z.strictObject({ leaves, opened_at: TimestampSchema, closed_at: TimestampSchema })
export const AnswerWindowSchema = windowOf(AnswerLeavesSchema)
export const ServedWindowSchema = windowOf(ServedLeavesSchema)

/** What a batch write returns: the public batch's action and the private leaves' entry. */
export const BatchRefSchema = z.object({ batch: ActionHashB64Schema, leaves: EntryHashB64Schema })
export type BatchRef = z.infer<typeof BatchRefSchema>

/**
 * A request as a peer that took part in it holds it: as runner (its leaf, proof and batch) and/or as
 * requester (what it served, and its own batch). A bystander holds none: null.
 */
export const ServedRecordSchema = z.object({
  request: Sha256HexSchema,
  /** This peer ran it: its leaf and path against its own batch. */
  answered: z.object({ proof: LeafProofSchema, batch: entryRecord(AnswerBatchSchema) }).nullable(),
  /** This peer asked for it: what it served, and its own batch of it. */
  served: z
    .object({
      leaf: ServedLeafSchema,
      batch: entryRecord(ServedBatchSchema),
      /** The runner's public batch its proof cites, once here (null while it travels). */
      runner_batch: entryRecord(AnswerBatchSchema).nullable(),
    })
    .nullable(),
})
export type ServedRecord = z.infer<typeof ServedRecordSchema>

const sum = <T>(items: readonly T[], of: (item: T) => number) => items.reduce((n, item) => n + of(item), 0)

/**
 * The totals a public batch carries: its leaves' count (a runner's proofs are checked against it, the
 * size of its tree) and no tokens. Per-window token sums paired a requester's batch with its runner's
 * (equal in a window of one request) and told anyone the sizes of the requests; each party totals its
 * usage from its own private leaves (host/usage). A release before 0.2.0 publishes its sums, and reads
 * 0, as its rules check a public batch's totals only for range.
 */
export function publicTotals(totals: BatchTotals): BatchTotals {
  return { count: totals.count, tokens_in: 0, tokens_out: 0 }
}

/**
 * What a requester's public batch says of its window: nothing. Every member signs one on every slot of
 * its record grid whether it asked for anything or not (cover, host/requests/direct/served-records.ts),
 * and each says count 1 (the least the rules take), accepted 0 and no tokens: a bystander cannot tell a
 * member that asked from one that did not, so it cannot pair a requester with the runner whose batch it
 * sees. The counts are in the private leaves, the root commits to them. Values only: the rules of every
 * release check a public batch's totals and `accepted` for range alone.
 */
export const SERVED_PUBLIC = {
  totals: { count: 1, tokens_in: 0, tokens_out: 0 },
  accepted: 0,
} as const satisfies Pick<ServedBatch, 'totals' | 'accepted'>

/**
 * Why a cover leaf records no request: a slot in which this member asked for nothing still has its
 * window signed (the rules take no window without a leaf), with one leaf that is no request's.
 */
export const COVER_REASON = 'cover: no request was served in this slot'

/** A leaf that stands for no request (`COVER_REASON`, no proof): left out of usage and look-ups. */
export function isCoverLeaf(leaf: ServedLeaf): boolean {
  return leaf.proof === null && leaf.reason === COVER_REASON
}

/** A runner's window of leaves with the root and totals the rules check them against. */
export function answerLeavesOf(leaves: AnswerLeaf[]): AnswerLeaves {
  return {
    root: merkleRoot(leaves.map(answerLeafBytes)),
    totals: {
      count: leaves.length,
      tokens_in: sum(leaves, (l) => l.tokens_in),
      tokens_out: sum(leaves, (l) => l.tokens_out),
    },
    leaves,
  }
}

/** A requester's window likewise: tokens as its runners' leaves say (none without a proof). */
export function servedLeavesOf(leaves: ServedLeaf[]): ServedLeaves {
  return {
    root: merkleRoot(leaves.map(servedLeafBytes)),
    totals: {
      count: leaves.length,
      tokens_in: sum(leaves, (l) => l.proof?.leaf.tokens_in ?? 0),
      tokens_out: sum(leaves, (l) => l.proof?.leaf.tokens_out ?? 0),
    },
    accepted: leaves.filter((l) => l.accepted).length,
    leaves,
  }
}

/** The leaf bytes hashed into a runner's tree (newline-separated; no field holds a newline). */
export function answerLeafBytes(l: AnswerLeaf): Uint8Array {
  return new TextEncoder().encode(
    [
      'ripple-answer-leaf/1',
      l.request,
      l.requester,
      l.model,
      l.model_file_hash ?? '',
      l.status,
      l.output_hash,
      l.tokens_in,
      l.tokens_out,
      l.started_at,
      l.finished_at,
    ].join('\n'),
  )
}

/** The leaf bytes hashed into a requester's tree. */
export function servedLeafBytes(s: ServedLeaf): Uint8Array {
  return new TextEncoder().encode(
    [
      'ripple-served-leaf/1',
      s.request,
      s.runner,
      s.model,
      s.proof?.batch ?? '',
      s.output_hash,
      s.accepted ? 1 : 0,
      s.proof?.leaf.tokens_in ?? 0,
      s.proof?.leaf.tokens_out ?? 0,
    ].join('\n'),
  )
}
