/**
 * `<dataDir>/daemon.json`: written private, read back as written, and read as null where there is
 * none or it is not one of ours.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type DaemonFile,
  daemonFilePath,
  readDaemonFile,
  removeDaemonFile,
  writeDaemonFile,
} from '../../../host/daemon/daemon-file.ts'

const FILE: DaemonFile = {
  pid: 4242,
  api_url: 'http://127.0.0.1:7420',
  network: 'lab',
  agent: 'uhCAkAgent',
  data_dir: '/data/lab',
  started_at: '2026-11-24T10:00:00.000Z',
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-daemon-file-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the daemon file', () => {
  it('is daemon.json in the data dir', () => {
    expect(daemonFilePath('/data/lab')).toBe(join('/data/lab', 'daemon.json'))
  })

  it('reads back what was written, owner-only', async () => {
    await writeDaemonFile(dir, FILE)
    expect(await readDaemonFile(dir)).toEqual(FILE)
    expect((await stat(daemonFilePath(dir))).mode & 0o777).toBe(0o600)
  })

  it('reads as null where there is none, and after it is removed', async () => {
    expect(await readDaemonFile(dir)).toBeNull()
    await writeDaemonFile(dir, FILE)
    await removeDaemonFile(dir)
    expect(await readDaemonFile(dir)).toBeNull()
    // Removing one that is gone is no error.
    await expect(removeDaemonFile(dir)).resolves.toBeUndefined()
  })

  it.each([
    ['not JSON', '{"pid": 42'],
    ['a pid that is not a process id', JSON.stringify({ ...FILE, pid: 0 })],
    ['an API URL that is not a URL', JSON.stringify({ ...FILE, api_url: '127.0.0.1 port 7420' })],
    ['a field missing', JSON.stringify({ ...FILE, agent: undefined })],
  ])('reads as null when it is %s', async (_, text) => {
    await writeFile(daemonFilePath(dir), text)
    expect(await readDaemonFile(dir)).toBeNull()
  })

  it('throws an error other than a missing file', async () => {
    // The data dir is a file: reading daemon.json under it fails with ENOTDIR, not ENOENT.
    const notADir = join(dir, 'plain')
    await writeFile(notADir, '')
    await expect(readDaemonFile(notADir)).rejects.toMatchObject({ code: 'ENOTDIR' })
  })
})
