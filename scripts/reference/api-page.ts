/** `docs/reference/api.md`: the OpenAPI document of the management API, route by route. */
import type { OpenApiDocument, OpenApiOperation } from '../../host/api/openapi/openapi-document.ts'
import { code, generatedNote, inline, table } from './markdown.ts'
import { constraints, schemaText } from './schema-text.ts'

interface MediaType {
  schema?: unknown
  'x-events'?: Record<string, unknown>
}

export function apiPage(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  )
  const components = (document.components as { schemas: Record<string, unknown> }).schemas
  return [
    generatedNote('the zod contract in `host/api/contract` (through its OpenAPI document)'),
    '',
    '# Management API',
    '',
    "The daemon's management API (`/api/...`), as the OpenAPI 3.1 document it serves at " +
      '`GET /api/openapi.json`. Every route takes the API token (`ripple token` prints it) as ' +
      '`Authorization: Bearer TOKEN`, except `POST /api/session`, which trades a one-time login code for it. ' +
      'An API key (`ripple keys create`) reaches `/v1` and `/mcp` only, never these routes.',
    '',
    'Fields are shown as an outline: `name?:` is optional, `// ...` gives bounds, patterns and defaults. ' +
      'Errors, on any route, answer a 4xx or 5xx status with the body ' +
      `${code('ApiError')} ([below](#apierror)).`,
    '',
    // Two columns, the description's first sentence: the page's column is narrow.
    table(
      ['Route', 'What it does'],
      operations.map(({ path, method, op }) => [
        `[${code(`${method} ${path}`)}](#${op.operationId.toLowerCase()})`,
        inline(firstSentence(op.summary ?? '')),
      ]),
    ),
    '',
    ...operations.flatMap(({ path, method, op }) => operationSection(path, method, op)),
    '## Shared schemas',
    '',
    ...Object.entries(components).flatMap(([name, schema]) => [
      `### ${name}`,
      '',
      '```ts',
      schemaText(schema),
      '```',
      '',
    ]),
  ].join('\n')
}

function operationSection(path: string, method: string, op: OpenApiOperation): string[] {
  const lines = [`## ${op.operationId}`, '', code(`${method} ${path}`), '']
  if (op.description ?? op.summary) lines.push(inline(op.description ?? op.summary ?? ''), '')
  if (op.security?.length === 0) lines.push('Needs no token.', '')
  const parameters = op.parameters ?? []
  if (parameters.length > 0) {
    lines.push(
      table(
        ['Parameter', 'In', 'Type', 'Required', 'Notes'],
        parameters.map((p) => [
          code(p.name),
          p.in,
          code(schemaText(p.schema).replace(/\s+/g, ' ')),
          p.required ? 'yes' : 'no',
          inline(constraints(p.schema, true)),
        ]),
      ),
      '',
    )
  }
  if (op.requestBody) {
    const body = op.requestBody.content['application/json']?.schema
    lines.push(`**Body** (JSON${op.requestBody.required ? '' : ', optional'}):`, '', fenced(body), '')
  }
  const content = (op.responses['2XX']?.content ?? {}) as Record<string, MediaType>
  if (content['application/json'])
    lines.push('**Answer** (JSON):', '', fenced(content['application/json'].schema), '')
  const events = content['text/event-stream']?.['x-events']
  if (events) {
    const when = content['application/json'] ? ', when asked with `accept: text/event-stream`' : ''
    lines.push(`**Events** (server-sent${when}):`, '')
    for (const [name, schema] of Object.entries(events))
      lines.push(`- ${code(name)}:`, '', indented(fenced(schema)), '')
  }
  if (content['application/octet-stream'])
    lines.push('**Answer**: the bytes (`application/octet-stream`).', '')
  return lines
}

const fenced = (schema: unknown) => `\`\`\`ts\n${schemaText(schema)}\n\`\`\``
const indented = (text: string) => text.replace(/^/gm, '  ')

/** Up to the first full stop that ends a sentence (not one inside a name like `ripple.json`). */
export function firstSentence(text: string): string {
  const end = /\.(\s|$)/.exec(text)
  return end === null ? text : text.slice(0, end.index + 1)
}
