import { describe, expect, it } from 'vitest'
import {
  answerOf,
  type Ballot,
  normaliseText,
  tally,
  vectorSimilarity,
} from '../../../host/scheduler/agreement.ts'

const texts = (...list: string[]): Ballot[] =>
  list.map((text, i) => ({ id: `r${i}`, answer: answerOf('infer.generate', { text, timings: { i } }) }))
const embeddings = (...list: number[][][]): Ballot[] =>
  list.map((vectors, i) => ({ id: `r${i}`, answer: answerOf('infer.embed', { vectors, dimension: 2 }) }))

describe('agreement of text answers', () => {
  it('normalises case, spacing and trailing punctuation, nothing else', () => {
    expect(normaliseText('  The  answer\n is\tParis!! ')).toBe('the answer is paris')
    expect(normaliseText('Paris.')).toBe(normaliseText('paris'))
    expect(normaliseText('Paris, France')).not.toBe(normaliseText('Paris France'))
  })

  it('compares only the generated text of infer.generate, and the whole output of other kinds', () => {
    expect(answerOf('infer.generate', { text: 'Yes.', model: { name: 'a' } })).toEqual({
      type: 'text',
      text: 'yes',
    })
    expect(answerOf('sha256', { sha256: 'ab', bytes: 2 })).toEqual({
      type: 'json',
      json: '{"bytes":2,"sha256":"ab"}',
    })
  })

  it('groups the same normalised text; the largest group wins', () => {
    expect(tally(texts('Lyon', 'Paris.', ' paris', 'Nice')).groups).toEqual([['r1', 'r2'], ['r0'], ['r3']])
  })

  it('breaks a tie by the earliest answer', () => {
    expect(tally(texts('b', 'a')).groups).toEqual([['r0'], ['r1']])
    expect(tally(texts('b', 'a', 'a', 'b')).groups).toEqual([
      ['r0', 'r3'],
      ['r1', 'r2'],
    ])
  })

  it('has no groups without answers', () => {
    expect(tally([])).toEqual({ groups: [], similarity: new Map() })
  })
})

describe('agreement of embedding answers', () => {
  it('is the mean cosine similarity of the vectors pair by pair, floored at 0', () => {
    expect(vectorSimilarity([[1, 0]], [[2, 0]])).toBeCloseTo(1)
    expect(vectorSimilarity([[1, 0]], [[0, 1]])).toBe(0)
    expect(vectorSimilarity([[1, 0]], [[-1, 0]])).toBe(0)
    expect(
      vectorSimilarity(
        [
          [1, 0],
          [0, 1],
        ],
        [
          [1, 0],
          [1, 0],
        ],
      ),
    ).toBeCloseTo(0.5)
    // Another dimension, another count, or a zero vector: no agreement.
    expect(vectorSimilarity([[1, 0]], [[1, 0, 0]])).toBe(0)
    expect(
      vectorSimilarity(
        [[1, 0]],
        [
          [1, 0],
          [1, 0],
        ],
      ),
    ).toBe(0)
    expect(vectorSimilarity([[0, 0]], [[0, 0]])).toBe(0)
  })

  it('groups embeddings within the threshold of a group’s first answer', () => {
    const ballots = embeddings([[1, 0]], [[0, 1]], [[0.99, 0.05]], [[0.8, 0.6]])
    const { groups, similarity } = tally(ballots)
    expect(groups).toEqual([['r0', 'r2'], ['r1'], ['r3']])
    expect(similarity.get('r0')).toBeCloseTo(1)
    expect(similarity.get('r2')).toBeGreaterThan(0.99)
    expect(similarity.get('r3')).toBeCloseTo(0.8)
    expect(similarity.get('r1')).toBe(0)
    // A looser threshold lets the 0.8 one in.
    expect(tally(ballots, 0.75).groups).toEqual([['r0', 'r2', 'r3'], ['r1']])
  })
})
