import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import {
  MAX_STATED_PROTOCOLS,
  OWN_STATEMENT,
  PROTOCOLS,
  RELEASE,
  ReleaseStatementSchema,
  UNSTATED,
} from '../../../host/interface/release.ts'

describe('release', () => {
  it("is package.json's version", async () => {
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8'))
    expect(RELEASE).toBe(pkg.version)
  })

  it('has a CHANGELOG entry', async () => {
    const changelog = await readFile(new URL('../../../CHANGELOG.md', import.meta.url), 'utf8')
    expect(changelog).toContain(`## ${RELEASE}\n`)
  })

  it('takes a peer that states nothing for 0.1.0 speaking version 1 of every protocol it had', () => {
    expect(UNSTATED.release).toBe('0.1.0')
    // Every protocol but those 0.1.0 did not speak at all.
    expect(Object.keys(UNSTATED.protocols).sort()).toEqual(
      Object.keys(PROTOCOLS)
        .filter((name) => name !== 'usage' && name !== 'record')
        .sort(),
    )
    expect(new Set(Object.values(UNSTATED.protocols))).toEqual(new Set([1]))
  })

  it('keeps protocols it does not know, and bounds the statement', () => {
    const future = { release: '0.9.0', protocols: { ...PROTOCOLS, teleport: 3 } }
    expect(ReleaseStatementSchema.parse(future).protocols.teleport).toBe(3)
    expect(ReleaseStatementSchema.safeParse(OWN_STATEMENT).success).toBe(true)
    const many = Object.fromEntries(Array.from({ length: MAX_STATED_PROTOCOLS + 1 }, (_, i) => [`p${i}`, 1]))
    expect(ReleaseStatementSchema.safeParse({ release: '1.0.0', protocols: many }).success).toBe(false)
    expect(ReleaseStatementSchema.safeParse({ release: '', protocols: {} }).success).toBe(false)
  })
})
