/**
 * JSON with object keys sorted at every depth, so key order never changes a hash. Entries travel as
 * msgpack with sorted keys, so a reader gets the keys back sorted whatever order the writer used:
 * hashes over JSON (a Result's `output_hash`, the DNA hash's properties) are taken over this form.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}
