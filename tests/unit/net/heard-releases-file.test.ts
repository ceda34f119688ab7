/**
 * The releases heard, across a restart: a peer that heard every member state `record` shards again
 * from its first moment, before it hears anyone.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { OWN_STATEMENT, UNSTATED } from '../../../host/interface/release.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { HEARD_RELEASES_FILE, keepHeardReleases } from '../../../host/net/heard-releases-file.ts'
import { PeerVersions } from '../../../host/net/mesh-versions.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function dataDir() {
  const dir = await mkdtemp(join(tmpdir(), 'ripple-heard-'))
  dirs.push(dir)
  return dir
}

const members = ['a', 'b', 'c']
const book = () => new PeerVersions({ self: 'me', members: () => members })

describe('the releases heard, kept in the data dir', () => {
  it('recalls at start what the last run heard, and its change since', async () => {
    const dir = await dataDir()
    const first = book()
    const kept = await keepHeardReleases(dir, first, silentLogger())
    for (const agent of members) first.record(agent, OWN_STATEMENT)
    expect(first.everySpeaks('record', 1)).toBe(true)
    await kept.close()
    expect((await stat(join(dir, HEARD_RELEASES_FILE))).mode & 0o777).toBe(0o600)

    const second = book()
    expect(second.everySpeaks('record', 1)).toBe(false)
    const again = await keepHeardReleases(dir, second, silentLogger())
    expect(second.everySpeaks('record', 1)).toBe(true)
    // A member heard on an earlier release now: the new form waits again, in this run and the next.
    second.record('b', UNSTATED)
    expect(second.everySpeaks('record', 1)).toBe(false)
    await again.close()

    const third = book()
    await (await keepHeardReleases(dir, third, silentLogger())).close()
    expect(third.of('b')).toEqual(UNSTATED)
    expect(third.everySpeaks('record', 1)).toBe(false)
  })

  it('starts with nothing heard, warned of, from a file that does not read, and writes it over', async () => {
    const dir = await dataDir()
    await writeFile(join(dir, HEARD_RELEASES_FILE), '{"v":1,"statem')
    const lines: { msg: string }[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    const versions = book()
    const kept = await keepHeardReleases(dir, versions, logger)
    expect(versions.heard()).toEqual([])
    expect(lines.map((l) => l.msg)).toEqual([
      'the releases heard before are unreadable: every member counts as unheard',
    ])
    versions.record('a', OWN_STATEMENT)
    await kept.close()
    expect(JSON.parse(await readFile(join(dir, HEARD_RELEASES_FILE), 'utf8')).heard).toEqual([
      ['a', 0, expect.any(Number)],
    ])
  })
})
