/** A data dir records its format and the release that last opened it; a newer one is refused untouched. */
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { prepareDataDir } from '../../../host/daemon/data-dir.ts'
import { DATA_DIR_RECORD, DataDirFormatError } from '../../../host/daemon/data-dir-format.ts'
import { PROTOCOLS, RELEASE } from '../../../host/interface/release.ts'
import { runRipple } from '../../e2e/ripple-process.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-data-dir-format-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const record = async (path: string) => JSON.parse(await readFile(join(path, DATA_DIR_RECORD), 'utf8'))
const THIS = { data_dir_format: PROTOCOLS.data_dir, release: RELEASE }

/** A dir as a newer release leaves it: its record, a key file, a mode this release would change. */
async function newerDir(): Promise<string> {
  const path = join(dir, 'newer')
  await mkdir(path)
  await writeFile(
    join(path, DATA_DIR_RECORD),
    JSON.stringify({ data_dir_format: 9, release: '0.9.0', more: 1 }),
  )
  await writeFile(join(path, 'agent-key'), 'secret')
  await chmod(path, 0o750)
  return path
}

describe('the data dir format', () => {
  it('is recorded in a new dir', async () => {
    const { path } = await prepareDataDir('local', join(dir, 'new'))
    expect(await record(path)).toEqual(THIS)
  })

  it("migrates 0.1.0's dir (no record) forward and keeps what it holds", async () => {
    const path = join(dir, 'old')
    await mkdir(path)
    await writeFile(join(path, 'agent-key'), 'secret')
    await prepareDataDir('local', path)
    expect(await record(path)).toEqual(THIS)
    expect(await readFile(join(path, 'agent-key'), 'utf8')).toBe('secret')
  })

  it('refuses a dir a newer release wrote, naming both versions, and changes nothing', async () => {
    const path = await newerDir()
    const before = await readFile(join(path, DATA_DIR_RECORD), 'utf8')
    const opening = prepareDataDir('local', path)
    await expect(opening).rejects.toThrow(DataDirFormatError)
    await expect(opening).rejects.toThrow(
      `data dir ${path} was last opened by a newer Ripple (data dir format 9, Ripple 0.9.0); ` +
        `this peer ${RELEASE} reads format ${PROTOCOLS.data_dir}: upgrade this peer; nothing in it was changed`,
    )
    expect(await readFile(join(path, DATA_DIR_RECORD), 'utf8')).toBe(before)
    expect((await stat(path)).mode & 0o777).toBe(0o750)
  })

  it('refuses a record it cannot read', async () => {
    const path = join(dir, 'garbled')
    await mkdir(path)
    await writeFile(join(path, DATA_DIR_RECORD), '{"data_dir_format": "two"}')
    await expect(prepareDataDir('local', path)).rejects.toThrow(
      /release\.json is unreadable; nothing was changed/,
    )
  })

  it('stops `ripple up` on a newer dir with the versions named', { timeout: 60_000 }, async () => {
    const path = await newerDir()
    const res = await runRipple(['up', '--network', 'local', '--data-dir', path])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain('by a newer Ripple (data dir format 9, Ripple 0.9.0)')
    expect(await readFile(join(path, 'agent-key'), 'utf8')).toBe('secret')
  })
})
