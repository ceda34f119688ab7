/**
 * `docs/reference/network-file.md`: the fields of a network file, section by section, from its zod
 * schema (types, bounds, what is required) and the schema's comments (what each field is for).
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import * as schemas from '../../host/config/network-schema.ts'
import { code, generatedNote, inline, table } from './markdown.ts'
import { constraints, schemaText } from './schema-text.ts'
import { sourceComments } from './source-comments.ts'

export const SCHEMA_FILE = 'host/config/network-schema.ts'
const EXAMPLE_FILE = 'networks/local.json'

type JsonSchema = Record<string, unknown>

interface Section {
  path: string
  schemaName: string
  fields: { name: string; json: JsonSchema; required: boolean; doc: string }[]
}

export function networkFilePage(): string {
  const comments = sourceComments(SCHEMA_FILE)
  // Which exported schema a nested section is, so its comments are found under its own name.
  const names = new Map<unknown, string>(Object.entries(schemas).map(([name, value]) => [value, name]))
  const sections: Section[] = []
  const walk = (schema: z.ZodObject, schemaName: string, path: string, json: JsonSchema) => {
    const docs = comments.get(schemaName) ?? new Map<string, string>()
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>
    const required = new Set((json.required ?? []) as string[])
    const section: Section = { path, schemaName, fields: [] }
    sections.push(section)
    const nested: [z.ZodObject, string, string, JsonSchema][] = []
    for (const [name, field] of Object.entries(schema.shape)) {
      const inner = unwrapped(field as z.ZodType)
      const innerName = names.get(inner)
      const property = properties[name] ?? {}
      section.fields.push({ name, json: property, required: required.has(name), doc: docs.get(name) ?? '' })
      if (inner instanceof z.ZodObject && innerName)
        nested.push([inner, innerName, path ? `${path}.${name}` : name, objectOf(property)])
    }
    for (const args of nested) walk(...args)
  }
  const root = z.toJSONSchema(schemas.NetworkConfigSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema
  walk(schemas.NetworkConfigSchema, 'NetworkConfigSchema', '', root)
  return [
    generatedNote(`its zod schema, \`${SCHEMA_FILE}\``),
    '',
    '# Network file',
    '',
    'A network file (`networks/NAME.json`, or any path given to `ripple up --network`) says which backend a ' +
      'peer runs, what separates its DHT from every other network (name and seed), how peers find each ' +
      'other and how often they beat. A file that does not match is refused at start, with every field ' +
      'that is wrong.',
    '',
    `The one \`ripple up\` uses by default, ${code(EXAMPLE_FILE)}:`,
    '',
    '```json',
    readFileSync(EXAMPLE_FILE, 'utf8').trimEnd(),
    '```',
    '',
    ...sections.flatMap((section) =>
      sectionText(section, comments.get(section.schemaName)?.get(''), new Set(sections.map((s) => s.path))),
    ),
  ].join('\n')
}

function sectionText(section: Section, doc: string | undefined, described: Set<string>): string[] {
  const lines = [section.path ? `## ${section.path}` : '## Top level', '']
  if (doc) lines.push(inline(doc), '')
  lines.push(
    table(
      ['Field', 'Type', 'Required', 'What it is'],
      section.fields.map((f) => {
        const type = f.json.type === 'object' && f.json.properties ? 'object' : schemaText(f.json)
        const notes = constraints(f.json, true)
        const path = section.path ? `${section.path}.${f.name}` : f.name
        const link = described.has(path) ? `(see [below](#${path.toLowerCase().replaceAll('.', '-')}))` : ''
        return [
          code(f.name),
          code(type.replace(/\s+/g, ' ')),
          f.required ? 'yes' : 'no',
          [inline(f.doc), notes ? inline(`(${notes})`) : '', link].filter(Boolean).join(' '),
        ]
      }),
    ),
    '',
  )
  return lines
}

/** The object schema inside an optional or nullable field's JSON Schema (zod writes those as anyOf). */
function objectOf(json: JsonSchema): JsonSchema {
  if (json.type === 'object') return json
  const options = (json.anyOf ?? json.oneOf ?? []) as JsonSchema[]
  return options.find((o) => o.type === 'object') ?? {}
}

function unwrapped(schema: z.ZodType): z.ZodType {
  let current = schema
  while (
    current instanceof z.ZodOptional ||
    current instanceof z.ZodNullable ||
    current instanceof z.ZodDefault
  )
    current = current.unwrap() as z.ZodType
  return current
}
