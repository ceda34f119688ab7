/**
 * A daemon killed (SIGKILL) in the middle of pinning a large artifact: the blocks that arrived are in
 * its store when it comes back, the pin completes, and the bytes it then serves are the artifact's,
 * verified. (Whether the kept blocks are fetched again is not asserted: at times they are; the
 * in-process storage-faults scenario shows a cut transfer completing from the blocks kept.)
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  isolatedNetwork,
  REPO_ROOT,
  RIPPLE_BIN,
  type RunningRipple,
  runRipple,
  startRipple,
} from './ripple-process.ts'

const SIZE = 64 * 1_048_576
let root = ''
const running: RunningRipple[] = []

afterAll(async () => {
  for (const d of running) if (d.child.exitCode === null) d.child.kill('SIGKILL')
  if (root) await rm(root, { recursive: true, force: true })
})

/** Block files in a data dir's IPFS store. */
async function blockFiles(dataDir: string): Promise<Set<string>> {
  const blocks = join(dataDir, 'ipfs', 'blocks')
  const files = new Set<string>()
  for (const shard of await readdir(blocks).catch(() => [] as string[])) {
    for (const name of await readdir(join(blocks, shard)).catch(() => [] as string[])) {
      if (!name.endsWith('.data') || name.startsWith('.')) continue
      const path = join(blocks, shard, name)
      files.add(path)
    }
  }
  return files
}

describe('a daemon killed mid-transfer', { timeout: 240_000 }, () => {
  it('keeps the blocks that arrived and completes the pin from there after a restart', async () => {
    root = await mkdtemp(join(tmpdir(), 'ripple-e2e-resume-'))
    const network = await isolatedNetwork(root, 'e2e-resume', {
      heartbeat: { interval_ms: 500, stale_after_missed: 3, offline_after_ms: 4000 },
    })
    const flags = (name: string) => [
      '--network',
      network,
      '--data-dir',
      join(root, name),
      '--api-port',
      '0',
      '--name',
      name,
      '--log-level',
      'warn',
    ]
    const alpha = await startRipple(flags('alpha'), 90_000)
    running.push(alpha)
    let beta = await startRipple(flags('beta'), 90_000)
    running.push(beta)

    const file = join(root, 'large.bin')
    const bytes = randomBytes(SIZE)
    await writeFile(file, bytes)
    const added = await runRipple(['artifact', 'add', file, '--data-dir', join(root, 'alpha')])
    expect(added.code, added.stderr).toBe(0)
    const cid = added.stdout.trim()

    // Beta starts pinning; once a handful of its 64 blocks are on its disk, its daemon is killed.
    const pin: ChildProcess = spawn(
      process.execPath,
      [RIPPLE_BIN, 'artifact', 'pin', cid, '--data-dir', join(root, 'beta')],
      {
        cwd: REPO_ROOT,
        stdio: 'ignore',
      },
    )
    const pinExited = new Promise<number | null>((resolve) => pin.once('exit', resolve))
    let before = new Set<string>()
    for (let i = 0; i < 6_000 && before.size < 8; i++) {
      before = await blockFiles(join(root, 'beta'))
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    beta.child.kill('SIGKILL')
    await beta.exited
    expect(await pinExited).not.toBe(0)
    before = await blockFiles(join(root, 'beta'))
    expect(before.size).toBeGreaterThanOrEqual(8)
    expect(before.size).toBeLessThan(SIZE / 1_048_576)

    beta = await startRipple(flags('beta'), 90_000)
    running.push(beta)
    const again = await runRipple(['artifact', 'pin', cid, '--data-dir', join(root, 'beta')])
    expect(again.code, again.stderr).toBe(0)
    const after = await blockFiles(join(root, 'beta'))
    // The blocks that had arrived survived the kill, and the pin completed the rest.
    expect([...before].every((path) => after.has(path))).toBe(true)
    expect(after.size).toBeGreaterThan(before.size)

    const out = join(root, 'out.bin')
    const got = await runRipple(['artifact', 'get', cid, '-o', out, '--data-dir', join(root, 'beta')])
    expect(got.code, got.stderr).toBe(0)
    expect(got.stderr).toContain('sha256 verified')
    expect((await readFile(out)).equals(bytes)).toBe(true)
  })
})
