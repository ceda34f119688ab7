/**
 * JSON Schema (as zod writes it) as a short TypeScript-like outline a person reads at a glance:
 * `{ kind: string, lease_ms?: integer }`, each field's bounds, pattern and default in a comment.
 */
type Schema = Record<string, unknown>

/** The schema as an outline, nested objects indented; `$ref`s by the name they point to. */
export function schemaText(schema: unknown, indent = ''): string {
  if (schema === true || schema === undefined) return 'any'
  if (schema === false) return 'never'
  const s = schema as Schema
  if (typeof s.$ref === 'string') return s.$ref.split('/').at(-1)!
  if ('const' in s) return JSON.stringify(s.const)
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ')
  const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined
  if (union) return union.map((u) => schemaText(u, indent)).join(' | ')
  if (s.not !== undefined && Object.keys(s.not as object).length === 0) return 'never'
  const types = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : []
  if (types.length === 0) return s.properties ? objectText(s, indent) : 'any'
  return types.map((t) => typeText(t, s, indent)).join(' | ')
}

function typeText(type: string, s: Schema, indent: string): string {
  if (type === 'object') return objectText(s, indent)
  if (type === 'array') {
    if (Array.isArray(s.prefixItems)) return `[${s.prefixItems.map((i) => schemaText(i, indent)).join(', ')}]`
    const item = schemaText(s.items, indent)
    return /[|\n]/.test(item) && !item.startsWith('{') ? `(${item})[]` : `${item}[]`
  }
  return type
}

function objectText(s: Schema, indent: string): string {
  const properties = (s.properties ?? {}) as Record<string, Schema>
  const extra = s.additionalProperties
  if (Object.keys(properties).length === 0) {
    if (extra === undefined || extra === false) return '{}'
    return `{ [key: string]: ${schemaText(extra, indent)} }`
  }
  const required = new Set((s.required ?? []) as string[])
  const inner = `${indent}  `
  const lines = Object.entries(properties).map(([name, property]) => {
    const note = constraints(property)
    const optional = required.has(name) ? '' : '?'
    return `${inner}${name}${optional}: ${schemaText(property, inner)}${note ? `  // ${note}` : ''}`
  })
  if (extra !== undefined && extra !== false) lines.push(`${inner}[key: string]: ${schemaText(extra, inner)}`)
  return `{\n${lines.join('\n')}\n${indent}}`
}

/** Bounds, length, pattern, format and default of one schema, as a short note (`markdown`: values in code spans). */
export function constraints(s: Schema, markdown = false): string {
  const value = (text: string) => (markdown ? `\`${text}\`` : text)
  const notes: string[] = []
  const range = (low: unknown, high: unknown, unit = '') => {
    if (low !== undefined && high !== undefined) notes.push(`${low}..${high}${unit}`)
    else if (low !== undefined) notes.push(`≥ ${low}${unit}`)
    else if (high !== undefined) notes.push(`≤ ${high}${unit}`)
  }
  // zod bounds every integer by the safe range: only a bound of the schema's own is worth a note.
  const safe = (n: unknown) => (Math.abs(n as number) === Number.MAX_SAFE_INTEGER ? undefined : n)
  range(safe(s.minimum ?? s.exclusiveMinimum), safe(s.maximum))
  range(s.minLength, s.maxLength, ' chars')
  range(s.minItems === 0 ? undefined : s.minItems, s.maxItems, ' items')
  if (typeof s.pattern === 'string') notes.push(`pattern ${value(s.pattern)}`)
  if (typeof s.format === 'string') notes.push(s.format)
  if ('default' in s) notes.push(`default ${value(JSON.stringify(s.default))}`)
  return notes.join('; ')
}
