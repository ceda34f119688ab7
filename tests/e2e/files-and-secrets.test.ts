/**
 * Files and secrets of a real `ripple up`: the data dir and every dir in it are 0700 and every file
 * in it 0600 even under a permissive umask and in a dir that already existed as 0755; the token is
 * never printed (a one-time login link is, and `ripple token` prints the token for scripts); engine
 * key dirs a killed daemon left in the temp dir are removed at start; a store that is not a database,
 * or one with a damaged page, stops `ripple up` with one line naming the file.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCHEMA } from '../../host/storage/sqlite-schema.ts'
import { damageTableRoot } from '../fixtures/damaged-store.ts'
import { LOOPBACK_FLAGS, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let root: string
let dataDir: string
let daemon: RunningRipple
// Engine key dirs in the temp dir, as a daemon killed while its engines loaded leaves them: one of a
// process that is gone (this start removes it), one of a live one (this test's: kept).
const deadKeyDir = join(tmpdir(), `ripple-engine-key-${spawnSync(process.execPath, ['-e', '']).pid}-e2e`)
const liveKeyDir = join(tmpdir(), `ripple-engine-key-${process.pid}-e2e`)

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-secrets-'))
  dataDir = join(root, 'data')
  await mkdir(dataDir)
  await chmod(dataDir, 0o755)
  for (const dir of [deadKeyDir, liveKeyDir]) {
    await mkdir(dir, { mode: 0o700 })
    await writeFile(join(dir, 'api-key'), 'secret\n', { mode: 0o600 })
  }
  daemon = await startRipple(['--data-dir', dataDir, '--api-port', '0', '--log-level', 'warn'], 60_000, {
    umask: 0o000,
  })
}, 90_000)

afterAll(async () => {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
  await rm(liveKeyDir, { recursive: true, force: true })
})

const mode = async (path: string) => (await stat(path)).mode & 0o777

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

describe('data dir and store files', { timeout: 60_000 }, () => {
  it('makes an existing 0755 data dir 0700 and every file in it 0600 under umask 000', async () => {
    expect(await mode(dataDir)).toBe(0o700)
    const files = await filesUnder(dataDir)
    // The store with its WAL and shared-memory files, the key, the token, daemon.json.
    for (const name of [
      'conductor.sqlite',
      'conductor.sqlite-wal',
      'conductor.sqlite-shm',
      'agent.key',
      'api-token',
    ])
      expect(files).toContain(join(dataDir, name))
    for (const file of files) expect([file, await mode(file)]).toEqual([file, 0o600])
  })

  it('creates every dir in it 0700 under umask 000, the models dir included', async () => {
    const entries = await readdir(dataDir, { recursive: true, withFileTypes: true })
    const dirs = entries.filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name))
    expect(dirs).toContain(join(dataDir, 'models'))
    for (const dir of dirs) expect([dir, await mode(dir)]).toEqual([dir, 0o700])
  })
})

describe('engine key dirs in the temp dir', () => {
  it('are removed at start when their daemon is dead, and kept while it lives', async () => {
    expect(existsSync(deadKeyDir)).toBe(false)
    expect(existsSync(liveKeyDir)).toBe(true)
  })
})

describe('the API token', { timeout: 60_000 }, () => {
  const token = () => readFile(join(dataDir, 'api-token'), 'utf8').then((t) => t.trim())
  const loginLink = () => /^ripple: open (http:\/\/127\.0\.0\.1:\d+)\/\?code=(\S+) /m.exec(daemon.stdout())

  it('is not printed at start; a one-time login link is', async () => {
    expect(daemon.stdout()).not.toContain(await token())
    expect(daemon.stderr()).not.toContain(await token())
    expect(loginLink()).not.toBeNull()
  })

  it('POST /api/session trades the link code for the token, once', async () => {
    const [, apiUrl, code] = loginLink() ?? []
    const exchange = (body: unknown) =>
      fetch(`${apiUrl}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const bad = await exchange({ code: 42 })
    expect(bad.status).toBe(400)
    const first = await exchange({ code })
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ token: await token() })
    const again = await exchange({ code })
    expect(again.status).toBe(401)
    expect(await again.json()).toMatchObject({
      error: { name: 'InvalidLoginCodeError', details: { field: 'code' } },
    })
    // Every other route still wants the token.
    expect((await fetch(`${apiUrl}/api/status`)).status).toBe(401)
  })

  it('`ripple token` prints it for scripts', async () => {
    const res = await runRipple(['token', '--data-dir', dataDir])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toBe(`${await token()}\n`)
  })
})

describe('a corrupted store', { timeout: 60_000 }, () => {
  /** Runs `ripple up` on `dir` and expects it to stop with one line naming its store and what to do. */
  async function stopsNamingTheStore(dir: string, why: RegExp): Promise<void> {
    const db = join(dir, 'conductor.sqlite')
    const res = await runRipple([
      'up',
      ...LOOPBACK_FLAGS,
      '--data-dir',
      dir,
      '--api-port',
      '0',
      '--log-level',
      'silent',
    ])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^ripple: the store ${db} is not a readable SQLite database \\(${why.source}\\); restore it from a backup, or move it aside`,
        ),
      ),
    ])
  }

  it('stops `ripple up` with one line naming the file', async () => {
    const broken = join(root, 'broken')
    await mkdir(broken)
    await writeFile(join(broken, 'conductor.sqlite'), Buffer.alloc(8192, 0x5a))
    await stopsNamingTheStore(broken, /file is not a database/)
  })

  it('stops `ripple up` with one line naming the file when a page of a sound store is damaged', async () => {
    const damaged = join(root, 'damaged')
    await mkdir(damaged)
    // A store of several pages of actions (the start's first write goes through the table's root).
    const path = join(damaged, 'conductor.sqlite')
    const db = new Database(path)
    db.exec(SCHEMA)
    const insert = db.prepare(
      "INSERT INTO actions (hash, dna_hash, author, seq, type, timestamp, bytes, signature) VALUES (?, ?, ?, ?, 'Create', ?, ?, ?)",
    )
    const [dna, author] = [randomBytes(39), randomBytes(39)]
    for (let seq = 0; seq < 200; seq++)
      insert.run(randomBytes(39), dna, author, seq, seq, randomBytes(100), randomBytes(64))
    db.close()
    await damageTableRoot(path, 'actions')
    await stopsNamingTheStore(damaged, /database disk image is malformed/)
  })
})
