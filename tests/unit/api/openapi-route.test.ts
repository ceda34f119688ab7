/**
 * GET /api/openapi.json: an OpenAPI 3.1 document (checked against the OpenAPI Initiative's schema of
 * 3.1 documents) naming every route of the contract, whose schemas describe what the routes answer;
 * like every management route, it takes the token.
 */
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import { ApiClient } from '../../../host/api/client/api-client.ts'
import { type RouteContract, routes } from '../../../host/api/contract/index.ts'
import type { OpenApiDocument } from '../../../host/api/openapi/openapi-document.ts'
import { baseInit, statusView } from './fixtures.ts'

// https://spec.openapis.org/oas/3.1/schema/2022-10-07, as openapi-spec-validator ships it. Its one
// `$dynamicRef` ("#meta": a schema is any object or boolean) is read as the plain `$ref` it stands for
// in this base schema: Ajv resolves it to the wrong place and then rejects every schema.
const OAS_31 = JSON.parse(
  readFileSync('tests/fixtures/openapi/oas-3.1-schema.json', 'utf8').replaceAll(
    '"$dynamicRef": "#meta"',
    '"$ref": "#/$defs/schema"',
  ),
)

let server: ApiServer | null = null
afterEach(async () => {
  await server?.stop()
})

async function serve() {
  server = new ApiServer(baseInit({ node: { status: statusView } }))
  await server.start()
  return { client: new ApiClient({ baseUrl: server.url, token: 'the-token' }), url: server.url }
}

/** The client checks the document's outline; the test reads the rest as the builder types it. */
async function documentOf(client: ApiClient): Promise<OpenApiDocument> {
  return (await client.openApi()) as unknown as OpenApiDocument
}

/** Validates `value` against one schema of the document, its refs to the components resolved. */
function validate(document: OpenApiDocument, schema: unknown, value: unknown) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  const check = ajv.compile({ ...(schema as object), components: document.components })
  return check(value) ? [] : check.errors
}

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document with every route of the contract', async () => {
    const { client } = await serve()
    const document = await documentOf(client)
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
    const valid = ajv.validate(OAS_31, document)
    expect(ajv.errors ?? [], 'the OpenAPI 3.1 schema').toEqual([])
    expect(valid).toBe(true)
    expect(document.info).toMatchObject({ title: 'Ripple management API', version: statusView().version })
    for (const [name, route] of Object.entries(routes) as [string, RouteContract][]) {
      const path = route.path.replace(/:([a-z_]+)/gi, '{$1}')
      const operation = document.paths[path]?.[route.method.toLowerCase()]
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(name)
      const declared = operation?.parameters?.filter((p) => p.in === 'path').map((p) => p.name) ?? []
      expect(declared.sort()).toEqual([...route.path.matchAll(/:([a-z_]+)/gi)].map((m) => m[1]).sort())
    }
    expect(document.paths['/api/tasks/{hash}/events']?.get?.summary).toBeTruthy()
  })

  it('describes what the routes answer', async () => {
    const { client } = await serve()
    const document = await documentOf(client)
    const reply = (path: string) =>
      (document.paths[path]?.get?.responses['2XX']?.content?.['application/json'] as { schema: unknown })
        ?.schema
    expect(validate(document, reply('/api/status'), await client.status())).toEqual([])
    expect(validate(document, reply('/api/openapi.json'), document)).toEqual([])
    expect(validate(document, reply('/api/status'), { version: 1 })).not.toEqual([])
    const submit = document.paths['/api/tasks']?.post?.requestBody
    expect(submit?.required).toBe(true)
    expect(
      validate(document, submit?.content['application/json']?.schema, {
        kind: 'echo',
        input: [1, { a: null }],
      }),
    ).toEqual([])
    expect(validate(document, submit?.content['application/json']?.schema, { kind: 'echo' })).not.toEqual([])
  })

  it('takes the token, and is open only where the session is', async () => {
    const { url } = await serve()
    const res = await fetch(`${url}/api/openapi.json`)
    expect(res.status).toBe(401)
    const document = (await (
      await fetch(`${url}/api/openapi.json`, { headers: { authorization: 'Bearer the-token' } })
    ).json()) as OpenApiDocument
    const open = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => (op.security?.length === 0 ? [`${method} ${path}`] : [])),
    )
    expect(open).toEqual(['post /api/session'])
  })
})
