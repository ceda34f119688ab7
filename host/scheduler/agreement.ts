/**
 * Reduction by agreement, for a task that fans out to several peers: which answers agree, and which
 * group of them wins. Text agrees when it is the same once normalised (case, spacing, trailing
 * punctuation); embeddings when their cosine similarity reaches a threshold; any other output when
 * it is the same JSON. Answers are taken in the order given (earliest first): each joins the first
 * group whose first answer it agrees with, and the largest group wins, the earliest on a tie, so
 * every host that tallies the same answers gets the same groups and winner.
 */
import { z } from 'zod'
import { canonicalJson } from '../../zomes-bindings/canonical-json.ts'

/** Embeddings agree from this cosine similarity up (the same model on the same text gives ~1). */
const EMBEDDING_AGREEMENT = 0.95

/** What an output says, in the form it is compared in. */
export type Answer =
  | { type: 'text'; text: string }
  | { type: 'vectors'; vectors: number[][] }
  | { type: 'json'; json: string }

const TextOutputSchema = z.object({ text: z.string() })
const VectorsOutputSchema = z.object({ vectors: z.array(z.array(z.number())) })

/**
 * The answer in an output of a task kind: the generated text of `infer.generate`, the vectors of
 * `infer.embed`, else the whole output. The timings, seed and model facts around an inference answer
 * differ from peer to peer and are not part of it.
 */
export function answerOf(kind: string, output: unknown): Answer {
  const text = kind === 'infer.generate' ? TextOutputSchema.safeParse(output) : null
  if (text?.success) return { type: 'text', text: normaliseText(text.data.text) }
  const vectors = kind === 'infer.embed' ? VectorsOutputSchema.safeParse(output) : null
  if (vectors?.success) return { type: 'vectors', vectors: vectors.data.vectors }
  return { type: 'json', json: canonicalJson(output) }
}

/** Trimmed, whitespace runs as one space, lowercase, without trailing punctuation. */
export function normaliseText(text: string): string {
  return text
    .trim()
    .replace(/\s+/gu, ' ')
    .toLowerCase()
    .replace(/[\p{P}\s]+$/u, '')
}

/**
 * Mean cosine similarity of two lists of vectors, pair by pair, floored at 0; 0 when the lists differ
 * in length or dimension (answers of different models cannot agree).
 */
export function vectorSimilarity(a: readonly number[][], b: readonly number[][]): number {
  if (a.length !== b.length || a.length === 0) return 0
  let sum = 0
  for (const [i, x] of a.entries()) {
    const y = b[i]!
    if (x.length !== y.length) return 0
    let dot = 0
    let xx = 0
    let yy = 0
    for (const [j, xj] of x.entries()) {
      dot += xj * y[j]!
      xx += xj * xj
      yy += y[j]! * y[j]!
    }
    sum += xx === 0 || yy === 0 ? 0 : dot / Math.sqrt(xx * yy)
  }
  return Math.min(1, Math.max(0, sum / a.length))
}

/** How alike two answers are, 0..1: 1 or 0 for text and JSON (the same or not), cosine for vectors. */
function similarity(a: Answer, b: Answer): number {
  if (a.type === 'vectors' && b.type === 'vectors') return vectorSimilarity(a.vectors, b.vectors)
  if (a.type === 'text' && b.type === 'text') return a.text === b.text ? 1 : 0
  if (a.type === 'json' && b.type === 'json') return a.json === b.json ? 1 : 0
  return 0
}

export interface Ballot {
  id: string
  answer: Answer
}

export interface Tally {
  /** Ballot ids by group: the winning group first, then larger groups first, the earlier on a tie. */
  groups: string[][]
  /** Each ballot's similarity to the winning group's first answer. */
  similarity: Map<string, number>
}

export function tally(ballots: readonly Ballot[], threshold = EMBEDDING_AGREEMENT): Tally {
  const groups: Ballot[][] = []
  for (const ballot of ballots) {
    const group = groups.find((g) => similarity(g[0]!.answer, ballot.answer) >= threshold)
    if (group) group.push(ballot)
    else groups.push([ballot])
  }
  // A stable sort: among groups of one size, the one whose first answer came first stays ahead.
  groups.sort((a, b) => b.length - a.length)
  const winner = groups[0]?.[0]
  return {
    groups: groups.map((g) => g.map((b) => b.id)),
    similarity: new Map(
      ballots.map((b) => [b.id, winner === undefined ? 0 : similarity(winner.answer, b.answer)]),
    ),
  }
}
