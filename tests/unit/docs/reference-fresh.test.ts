/**
 * The reference pages (docs/reference/) and the OpenAPI route descriptions are generated from the code:
 * each committed file must be what `npm run docs:reference` makes of the code now, or it is stale.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { referencePages } from '../../../scripts/reference/reference-pages.ts'

const pages = await referencePages()

describe('generated references', () => {
  it.each([...pages.keys()])('%s is what the code makes', (path) => {
    const committed = readFileSync(path, 'utf8')
    expect(committed === pages.get(path), `${path} is stale: run \`npm run docs:reference\``).toBe(true)
  })

  it('name every route, command, field, metric and record type', () => {
    expect(pages.get('docs/reference/api.md')).toMatch(/## openApi\n\n`GET \/api\/openapi\.json`/)
    expect(pages.get('docs/reference/cli.md')).toMatch(/#### ripple models alias set\n/)
    expect(pages.get('docs/reference/network-file.md')).toMatch(
      /\| `offline_after_ms` \| `integer` \| yes \|/,
    )
    expect(pages.get('docs/reference/metrics.md')).toMatch(/\| `ripple_api_requests_total` \| counter \|/)
    expect(pages.get('docs/reference/record-scopes.md')).toMatch(
      /\| `resource_mesh` \| `ServedBatch` \| neighbourhood \|/,
    )
  })

  it('leave nothing outside code that VitePress would read as markup', () => {
    for (const [path, text] of pages) {
      if (!path.endsWith('.md')) continue
      const prose = text
        .replace(/^<!--.*-->$/m, '')
        .replace(/```[\s\S]*?```/g, '')
        .replace(/`[^`\n]*`/g, '')
      expect(prose.match(/<|\{\{/g), path).toBeNull()
    }
  })
})
