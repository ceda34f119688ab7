/**
 * The management API's OpenAPI 3.1 document, built from the route contract (`../contract/routes.ts`):
 * each route's params, query, body, reply and events become its operation, their zod schemas turned
 * into JSON Schema 2020-12 (OpenAPI 3.1's dialect) by zod itself. Nothing here restates a schema.
 */
import { z } from 'zod'
import { ApiErrorBodySchema, type RouteContract, type RouteName, routes } from '../contract/index.ts'
import { SESSION_ROUTE } from '../routes/session-route.ts'

type JsonSchema = Record<string, unknown>
export type OpenApiDocument = Record<string, unknown> & {
  openapi: string
  paths: Record<string, Record<string, OpenApiOperation>>
}
export interface OpenApiOperation {
  operationId: string
  summary?: string
  description?: string
  parameters?: { name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema }[]
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> }
  responses: Record<string, { description: string; content?: Record<string, unknown> }>
  security?: unknown[]
}

export interface OpenApiOptions {
  /** The daemon's release, the document's `info.version`. */
  version: string
  /** Each route's description (its comment in the contract), by route name. */
  descriptions?: Readonly<Record<string, string>>
}

const ERROR_REF = { $ref: '#/components/schemas/ApiError' }

/** Builds the document; the same input gives the same document, byte for byte once serialized. */
export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
  const shared = new SharedDefs()
  const paths: Record<string, Record<string, OpenApiOperation>> = {}
  for (const [name, route] of Object.entries(routes) as [RouteName, RouteContract][]) {
    const path = route.path.replace(/:([a-z_]+)/gi, '{$1}')
    paths[path] ??= {}
    paths[path][route.method.toLowerCase()] = operation(name, route, options.descriptions?.[name], shared)
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ripple management API',
      version: options.version,
      description:
        "The daemon's management API on 127.0.0.1: every route takes the API token as a bearer token " +
        '(`ripple token` prints it), except the one that trades a login code for it.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ token: [] }],
    paths,
    components: {
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'the API token' } },
      schemas: { ApiError: shared.schema(ApiErrorBodySchema, 'output'), ...shared.defs },
    },
  }
}

function operation(
  name: RouteName,
  route: RouteContract,
  description: string | undefined,
  shared: SharedDefs,
): OpenApiOperation {
  const parameters = [
    ...parametersOf(route.params, 'path', shared),
    ...parametersOf(route.query, 'query', shared),
  ]
  const op: OpenApiOperation = { operationId: name, ...summaryOf(description), responses: {} }
  if (parameters.length > 0) op.parameters = parameters
  if (route.body) {
    const schema = shared.schema(route.body, 'input')
    op.requestBody = {
      required: !route.body.safeParse(undefined).success,
      content: { 'application/json': { schema } },
    }
  }
  op.responses = {
    '2XX': { description: 'the answer', content: replyContent(route, shared) },
    default: { description: 'an error', content: { 'application/json': { schema: ERROR_REF } } },
  }
  if (route.method === SESSION_ROUTE.method && route.path === SESSION_ROUTE.url) op.security = []
  return op
}

/** A JSON answer, server-sent events, or (a route that answers neither) the bytes themselves. */
function replyContent(route: RouteContract, shared: SharedDefs): Record<string, unknown> {
  const content: Record<string, unknown> = {}
  const json = !(route.reply instanceof z.ZodNever)
  if (json) content['application/json'] = { schema: shared.schema(route.reply, 'output') }
  if (route.events) {
    content['text/event-stream'] = {
      schema: { type: 'string', description: 'server-sent events; each data line is the JSON of its event' },
      'x-events': Object.fromEntries(
        Object.entries(route.events).map(([event, schema]) => [event, shared.schema(schema, 'output')]),
      ),
    }
  }
  if (!json && !route.events)
    content['application/octet-stream'] = {
      schema: { type: 'string', contentMediaType: 'application/octet-stream' },
    }
  return content
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query', shared: SharedDefs) {
  if (!schema) return []
  const json = shared.schema(schema, 'input')
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((json.required ?? []) as string[])
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }))
}

/** The first sentence is the summary; the whole comment, when longer, the description. */
function summaryOf(description: string | undefined): { summary?: string; description?: string } {
  if (!description) return {}
  const summary = firstSentence(description)
  return summary === description ? { summary } : { summary, description }
}

/** Up to the first full stop outside code spans and parentheses (`llama.cpp`, "(e.g. this)" go on). */
function firstSentence(text: string): string {
  let depth = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '`') quoted = !quoted
    else if (!quoted && c === '(') depth++
    else if (!quoted && c === ')') depth--
    else if (!quoted && depth === 0 && c === '.' && /\s/.test(text[i + 1] ?? ' ')) return text.slice(0, i)
  }
  return text
}

/**
 * Turns zod schemas into JSON Schema. A schema that refers to itself (any JSON value) comes with
 * `$defs` whose `#/$defs/...` refs would point at the document's root inside OpenAPI: they move to
 * `components.schemas`, one entry per distinct definition.
 */
class SharedDefs {
  readonly defs: Record<string, JsonSchema> = {}
  readonly #names = new Map<string, string>()

  schema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const {
      $schema: _,
      $defs,
      ...json
    } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema
    const renamed = new Map<string, string>()
    for (const [local, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      // A definition's own refs are local too: key it by its text with them neutral.
      const key = JSON.stringify(def)
      let name = this.#names.get(key)
      if (!name) {
        name = `Shared${this.#names.size + 1}`
        this.#names.set(key, name)
      }
      renamed.set(local, name)
    }
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite)
      if (value === null || typeof value !== 'object') return value
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => {
          const local = k === '$ref' && typeof v === 'string' ? v.match(/^#\/\$defs\/(.+)$/)?.[1] : undefined
          return [k, local ? `#/components/schemas/${renamed.get(local)}` : rewrite(v)]
        }),
      )
    }
    for (const [local, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      const name = renamed.get(local)!
      this.defs[name] ??= rewrite(def) as JsonSchema
    }
    return rewrite(json) as JsonSchema
  }
}
