/**
 * Every file `npm run docs:reference` writes, by path, made from the code as it is now: the five
 * reference pages and the route descriptions the daemon's OpenAPI document carries.
 */
import { openApiDocument } from '../../host/api/openapi/openapi-document.ts'
import { apiPage } from './api-page.ts'
import { cliPage, cliProgram } from './cli-page.ts'
import { metricsPage } from './metrics-page.ts'
import { networkFilePage } from './network-file-page.ts'
import { recordScopesPage } from './record-scopes-page.ts'
import { routeDescriptions, routeDescriptionsModule } from './route-descriptions-module.ts'

export const ROUTE_DESCRIPTIONS_FILE = 'host/api/openapi/route-descriptions.ts'

export async function referencePages(): Promise<Map<string, string>> {
  const descriptions = routeDescriptions()
  // The page names no release, so it does not go stale at every version bump.
  const document = openApiDocument({ version: 'current', descriptions })
  return new Map([
    [ROUTE_DESCRIPTIONS_FILE, routeDescriptionsModule(descriptions)],
    ['docs/reference/api.md', apiPage(document)],
    ['docs/reference/cli.md', cliPage(await cliProgram())],
    ['docs/reference/network-file.md', networkFilePage()],
    ['docs/reference/metrics.md', metricsPage()],
    ['docs/reference/record-scopes.md', recordScopesPage()],
  ])
}
