/**
 * Three `ripple up` processes on loopback, each with its own data dir, on a network of their own
 * (a fresh seed, so no other test's daemons can join): they find each other by mDNS pinned to
 * 127.0.0.1, and `ripple peers` on each lists the other two as online; a stopped one goes stale.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/routes/peers-route.ts'
import { REPO_ROOT, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

const NAMES = ['alpha', 'beta', 'gamma'] as const
let root: string
let daemons: (RunningRipple & { dataDir: string; agent: string })[] = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-three-'))
  const local = JSON.parse(await readFile(join(REPO_ROOT, 'networks', 'local.json'), 'utf8'))
  const network = {
    ...local,
    name: 'e2e-three',
    seed: `e2e-${randomBytes(8).toString('hex')}`,
    heartbeat: { interval_ms: 500, stale_after_missed: 3, offline_after_ms: 6000 },
  }
  const networkFile = join(root, 'network.json')
  await writeFile(networkFile, JSON.stringify(network))
  daemons = await Promise.all(
    NAMES.map(async (name) => {
      const dataDir = join(root, name)
      const flags = ['--network', networkFile, '--data-dir', dataDir, '--api-port', '0', '--name', name]
      const daemon = await startRipple([...flags, '--log-level', 'warn'], 90_000)
      const agent = /^ripple: agent (\S+)$/m.exec(daemon.stdout())?.[1] ?? ''
      return { ...daemon, dataDir, agent }
    }),
  )
}, 120_000)

afterAll(async () => {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

async function peersOf(dataDir: string): Promise<PeersReply> {
  const res = await runRipple(['peers', '--data-dir', dataDir, '--json'])
  expect(res.code, res.stderr).toBe(0)
  return JSON.parse(res.stdout) as PeersReply
}

/** Polls until `check` passes; the last failure is rethrown at the deadline. */
async function eventually(check: () => Promise<void>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}

describe('three ripple up processes on loopback', { timeout: 120_000 }, () => {
  it('each lists the other two as online in `ripple peers`', async () => {
    for (const daemon of daemons) {
      await eventually(async () => {
        const { peers } = await peersOf(daemon.dataDir)
        const others = daemons.filter((d) => d !== daemon)
        for (const other of others) {
          expect(peers).toContainEqual(
            expect.objectContaining({ agent: other.agent, status: 'online', self: false, warrant: null }),
          )
        }
        expect(peers.find((p) => p.self)?.agent).toBe(daemon.agent)
      }, 60_000)
    }
    // The human table names the others too (their capabilities replicated from their chains).
    const text = await runRipple(['peers', '--data-dir', daemons[0]!.dataDir])
    expect(text.stdout).toMatch(/beta\s+online/)
    expect(text.stdout).toMatch(/gamma\s+online/)
  })

  it('a stopped peer is no longer online for the other two', async () => {
    const gamma = daemons[2]!
    gamma.child.kill('SIGTERM')
    expect(await gamma.exited).toBe(0)
    for (const daemon of daemons.slice(0, 2)) {
      await eventually(async () => {
        const { peers } = await peersOf(daemon.dataDir)
        const seen = peers.find((p) => p.agent === gamma.agent)
        expect(seen?.status).toMatch(/^(stale|offline)$/)
      }, 20_000)
    }
  })
})
