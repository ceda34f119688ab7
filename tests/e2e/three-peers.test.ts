/**
 * Three `ripple up` processes on loopback, each with its own data dir, on a network of their own
 * (a fresh seed, so no other test's daemons can join): they find each other by mDNS pinned to
 * 127.0.0.1, and `ripple peers` on each lists the other two as online; a task submitted on one with
 * `ripple task submit sha256 --wait` runs on the only peer that meets it and comes back verified;
 * a stopped peer goes stale.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import type { TaskView } from '../../host/scheduler/scheduler-service.ts'
import { eventually, isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

const NAMES = ['alpha', 'beta', 'gamma'] as const
let root: string
let daemons: (RunningRipple & { dataDir: string; agent: string })[] = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-three-'))
  const networkFile = await isolatedNetwork(root, 'e2e-three', {
    heartbeat: { interval_ms: 500, stale_after_missed: 3, offline_after_ms: 6000 },
  })
  daemons = await Promise.all(
    NAMES.map(async (name) => {
      const dataDir = join(root, name)
      const flags = ['--network', networkFile, '--data-dir', dataDir, '--api-port', '0', '--name', name]
      // Only beta can run tasks that ask for this tag, so a task from alpha must cross processes.
      if (name === 'beta') flags.push('--tag', 'hashing')
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

  it('`ripple task submit sha256 --wait` on alpha runs on beta and comes back verified', async () => {
    const [alpha, beta, gamma] = daemons as [(typeof daemons)[0], (typeof daemons)[0], (typeof daemons)[0]]
    const data = 'pooled across three processes'
    const submit = await runRipple([
      'task',
      'submit',
      'sha256',
      '--input',
      JSON.stringify({ data }),
      '--tag',
      'hashing',
      '--wait',
      '--data-dir',
      alpha.dataDir,
    ])
    expect(submit.code, submit.stderr).toBe(0)
    expect(JSON.parse(submit.stdout)).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      bytes: Buffer.byteLength(data),
    })
    expect(submit.stderr).toContain(`done (attempt 1 on ${beta.agent.slice(0, 12)}…)`)
    const hash = /^ripple: submitted (\S+)$/m.exec(submit.stderr)?.[1] ?? ''

    const show = await runRipple(['task', 'show', hash, '--json', '--data-dir', alpha.dataDir])
    const view = JSON.parse(show.stdout) as TaskView
    expect(view.state.status).toBe('done')
    expect(view.state.assignments.map((a) => a.entry.assignee)).toEqual([beta.agent])
    expect(view.state.results.map((r) => r.author)).toEqual([beta.agent])
    expect(view.state.receipt?.entry.accepted).toBe(true)

    // The third peer holds the same signed life of the task, replicated and verified.
    await eventually(async () => {
      const other = await runRipple(['task', 'show', hash, '--json', '--data-dir', gamma.dataDir])
      expect(other.code, other.stderr).toBe(0)
      const seen = JSON.parse(other.stdout) as TaskView
      expect(seen.state.status).toBe('done')
      expect(seen.state.receipt?.action_hash).toBe(view.state.receipt?.action_hash)
    }, 20_000)
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
