/**
 * GET /api/openapi.json: the management API's OpenAPI 3.1 document. It describes the contract, not
 * this peer's data, but takes the token like every other management route (secure by default: a
 * route is open only when it must be); the same document is in docs/reference/api.md for anyone.
 */
import type { FastifyInstance } from 'fastify'
import { routes } from '../contract/index.ts'
import { type OpenApiDocument, openApiDocument } from '../openapi/openapi-document.ts'
import { ROUTE_DESCRIPTIONS } from '../openapi/route-descriptions.ts'

export function registerOpenApiRoute(app: FastifyInstance, version: () => string): void {
  // Built on the first request: the contract and the release do not change while the daemon runs.
  let document: OpenApiDocument | null = null
  app.get(routes.openApi.path, async () => {
    document ??= openApiDocument({ version: version(), descriptions: ROUTE_DESCRIPTIONS })
    return document
  })
}
