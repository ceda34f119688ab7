/**
 * What a parsed JSON body must be before any route sees it: nested at most MAX_JSON_DEPTH deep
 * (msgpack, zod and the rules all recurse; 5,000 levels overflowed the stack; the mesh checks the
 * same with interface/nesting-depth.ts) and made of
 * well-formed strings (a lone UTF-16 surrogate has no UTF-8 form: the Cedar parser and the Rust
 * rules fail on it). Both are the caller's mistakes, answered with the field at fault, in the
 * shape of the API the body came to (each edge answers a JsonBodyError by its kind).
 */
import type { FastifyRequest } from 'fastify'
import type { Failure } from '../interface/failure-kind.ts'
import { MAX_JSON_DEPTH, nestsTooDeep, pathOf, walkNested } from '../interface/nesting-depth.ts'

// In unicode mode a surrogate pair is one code point: only a lone surrogate is category Cs.
const LONE_SURROGATE = /\p{Cs}/u

export { MAX_JSON_DEPTH }

export interface BodyProblem {
  name: 'TooDeepJsonError' | 'MalformedStringError'
  /** The field at fault, as a dotted path (`input.messages.0.content`); `(body)` for the body itself. */
  field: string
  message: string
}

/** The first problem of `body`, walked once per request without recursion (the walk must not overflow either). */
export function checkJsonBody(body: unknown): BodyProblem | null {
  return walkNested<BodyProblem>(body, (value, place) => {
    // Keys are strings too: a key's problem is its object's.
    if (place !== null && LONE_SURROGATE.test(place.key)) {
      const field = fieldName(pathOf(place.parent))
      return { name: 'MalformedStringError', field, message: `${field}: a key holds a lone UTF-16 surrogate` }
    }
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) {
      const field = fieldName(pathOf(place))
      return {
        name: 'MalformedStringError',
        field,
        message: `${field}: a lone UTF-16 surrogate is not text (send well-formed Unicode)`,
      }
    }
    if (nestsTooDeep(value, place, MAX_JSON_DEPTH)) {
      const field = fieldName(pathOf(place))
      return {
        name: 'TooDeepJsonError',
        field,
        message: `${field}: JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
      }
    }
    return null
  })
}

/** A body `checkJsonBody` refused, under the problem's name, with the field at fault. */
export class JsonBodyError extends Error {
  readonly failureKind: Failure = 'invalid'
  readonly field: string
  constructor(problem: BodyProblem) {
    super(problem.message)
    this.name = problem.name
    this.field = problem.field
  }

  get details() {
    return { field: this.field }
  }
}

/** A `preValidation` hook refusing a body `checkJsonBody` refuses. */
export async function jsonBodyCheck(request: FastifyRequest) {
  // Only what the JSON parser made: a streamed body (artifact bytes) is not walked.
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(request.headers['content-type'] ?? '')) return
  const problem = checkJsonBody(request.body)
  if (problem !== null) throw new JsonBodyError(problem)
}

// A path thousands of levels deep is shortened: its start and its end say where it is.
const SHOWN_SEGMENTS = 8

function fieldName(path: readonly string[]): string {
  if (path.length === 0) return '(body)'
  if (path.length <= SHOWN_SEGMENTS) return path.join('.')
  return `${path.slice(0, SHOWN_SEGMENTS - 2).join('.')}.….${path.at(-1)} (level ${path.length})`
}
