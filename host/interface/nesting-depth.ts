/**
 * How deep a value from outside may nest, and the walk that checks it. msgpack, zod, JSON.stringify
 * and the rules all recurse: a value thousands of levels deep throws `RangeError` wherever it is next
 * used, far from where it came in. So each edge checks it as it decodes: the API's JSON bodies
 * (api/json-body-check.ts) and every message, entry and JSON a peer sends (`decodeMsgpack`,
 * `parseWireJson`). The walk does not recurse itself.
 */

/** The API edge: a caller's JSON body. */
export const MAX_JSON_DEPTH = 64
/** The mesh: a peer's message wraps what an API caller sent (envelope, body, entry), with room for that. */
export const MAX_WIRE_DEPTH = 2 * MAX_JSON_DEPTH

/** Where a value sits: its key and its parent's place (the path is built only for a problem found). */
export interface NestedPlace {
  key: string
  parent: NestedPlace | null
  depth: number
}

export const pathOf = (place: NestedPlace | null): string[] => {
  const path: string[] = []
  for (let at = place; at !== null; at = at.parent) path.push(at.key)
  return path.reverse()
}

/**
 * Visits every value of `root` (an object's or array's members after it; bytes are one value), and
 * answers the first problem `visit` finds, or null. Each place links to its parent's rather than
 * copying the path, so a wide value costs one small object per member.
 */
export function walkNested<P>(
  root: unknown,
  visit: (value: unknown, place: NestedPlace | null) => P | null,
): P | null {
  const stack: { value: unknown; place: NestedPlace | null }[] = [{ value: root, place: null }]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, place } = next
    const problem = visit(value, place)
    if (problem !== null) return problem
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) continue
    const depth = (place?.depth ?? 0) + 1
    for (const key in value) {
      stack.push({ value: (value as Record<string, unknown>)[key], place: { key, parent: place, depth } })
    }
  }
  return null
}

/** True for an object or array at `max` levels or more below the root: one that would nest too deep. */
export const nestsTooDeep = (value: unknown, place: NestedPlace | null, max: number): boolean =>
  typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && (place?.depth ?? 0) >= max

/** A value from a peer nested deeper than MAX_WIRE_DEPTH: refused as it is decoded, before anything uses it. */
export class TooDeepError extends Error {
  static override readonly name = 'TooDeepError'
  constructor(what: string, max = MAX_WIRE_DEPTH) {
    super(`${what} is nested deeper than ${max} levels`)
    this.name = 'TooDeepError'
  }
}

/** Throws TooDeepError when `value` nests deeper than `max`; answers it otherwise. */
export function checkDepth<T>(value: T, what: string, max = MAX_WIRE_DEPTH): T {
  if (walkNested(value, (v, place) => (nestsTooDeep(v, place, max) ? true : null)) !== null)
    throw new TooDeepError(what, max)
  return value
}

/** JSON from a peer: parsed, and refused (TooDeepError) when nested deeper than MAX_WIRE_DEPTH. */
export function parseWireJson(text: string, what: string): unknown {
  return checkDepth(JSON.parse(text) as unknown, what)
}
