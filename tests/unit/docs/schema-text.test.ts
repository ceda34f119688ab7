/** The outline the reference pages write of a JSON Schema, and their escaping of prose for VitePress. */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { inline } from '../../../scripts/reference/markdown.ts'
import { constraints, schemaText } from '../../../scripts/reference/schema-text.ts'

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' })

describe('schemaText', () => {
  it.each([
    ['a string', z.string(), 'string'],
    ['an enum', z.enum(['a', 'b']), '"a" | "b"'],
    ['a nullable int', z.number().int().nullable(), 'integer | null'],
    ['an array of a union', z.array(z.union([z.string(), z.number()])), '(string | number)[]'],
    ['a record', z.record(z.string(), z.boolean()), '{ [key: string]: boolean }'],
    ['an object', z.object({ a: z.string(), b: z.number().optional() }), '{\n  a: string\n  b?: number\n}'],
  ])('writes %s', (_what, schema, text) => {
    expect(schemaText(json(schema))).toBe(text)
  })

  it('notes bounds, patterns and defaults, not the safe-integer range zod adds', () => {
    expect(constraints(json(z.number().int().min(1).max(16).default(3)))).toBe('1..16; default 3')
    expect(constraints(json(z.number().int()))).toBe('')
    expect(constraints(json(z.string().regex(/^x$/)), true)).toBe('pattern `^x$`')
  })
})

describe('inline', () => {
  it.each([
    ['a tag', 'Bearer <token>', 'Bearer &lt;token>'],
    ['an interpolation', 'a {{ b }}', 'a &#123;&#123; b }}'],
    ['a pipe in a table cell', 'name|path', 'name\\|path'],
    ['code spans, kept', 'use `a <b>` here', 'use `a <b>` here'],
  ])('escapes %s', (_what, text, escaped) => {
    expect(inline(text)).toBe(escaped)
  })
})
