/**
 * Where a peer keeps its data: the dir it is given, a fresh session dir when ephemeral, else
 * `$RIPPLE_HOME/<network>` (`~/.ripple/<network>`); each made 0700.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { prepareDataDir, RIPPLE_HOME_ENV, rippleHome, sessionsRoot } from '../../../host/daemon/data-dir.ts'

const mode = async (path: string) => (await stat(path)).mode & 0o777

let dir: string
const made: string[] = []
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-data-dir-'))
})
afterEach(async () => {
  vi.unstubAllEnvs()
  for (const path of [dir, ...made.splice(0)]) await rm(path, { recursive: true, force: true })
})

describe('rippleHome', () => {
  it('is ~/.ripple unless RIPPLE_HOME says otherwise', () => {
    vi.stubEnv(RIPPLE_HOME_ENV, '')
    expect(rippleHome()).toBe(join(homedir(), '.ripple'))
    vi.stubEnv(RIPPLE_HOME_ENV, dir)
    expect(rippleHome()).toBe(dir)
  })

  it('resolves a relative RIPPLE_HOME', () => {
    vi.stubEnv(RIPPLE_HOME_ENV, 'relative/home')
    expect(rippleHome()).toBe(resolve('relative/home'))
  })
})

describe('prepareDataDir', () => {
  it('uses the dir it is given, made and private', async () => {
    const given = join(dir, 'given', 'nested')
    expect(await prepareDataDir('lab', given)).toEqual({ path: given, session: false })
    expect(await mode(given)).toBe(0o700)
  })

  it('takes the given dir over ephemeral', async () => {
    expect(await prepareDataDir('lab', dir, true)).toEqual({ path: dir, session: false })
  })

  it("defaults to the network's dir under RIPPLE_HOME", async () => {
    vi.stubEnv(RIPPLE_HOME_ENV, join(dir, 'home'))
    const data = await prepareDataDir('lab', undefined)
    expect(data).toEqual({ path: join(dir, 'home', 'lab'), session: false })
    expect(await mode(data.path)).toBe(0o700)
    // A restart finds the same one.
    expect(await prepareDataDir('lab', undefined)).toEqual(data)
  })

  it('makes a fresh private session dir per ephemeral run, named for the network', async () => {
    const a = await prepareDataDir('lab', undefined, true)
    const b = await prepareDataDir('lab', undefined, true)
    made.push(a.path, b.path)
    expect(a.session).toBe(true)
    expect(b.path).not.toBe(a.path)
    for (const { path } of [a, b]) {
      expect(dirname(path)).toBe(sessionsRoot())
      expect(path.slice(sessionsRoot().length + 1)).toMatch(/^lab-/)
      expect(await mode(path)).toBe(0o700)
    }
    expect(await mode(sessionsRoot())).toBe(0o700)
  })
})
