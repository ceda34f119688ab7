/**
 * Artifacts through three `ripple up` processes on loopback (a network of their own): a file added
 * on one with `ripple artifact add --replication 2` reaches a second holder by itself, `ripple
 * artifact get` on the third writes the same bytes (verified), and when the second holder is killed
 * the third restores the count. A CID nobody registered is a clear error, and the daemon carries on.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArtifactView } from '../../host/api/contract/index.ts'
import { eventually, isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

const NAMES = ['alpha', 'beta', 'gamma'] as const
let root: string
let daemons: (RunningRipple & { dataDir: string; agent: string })[] = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-artifacts-'))
  const networkFile = await isolatedNetwork(root, 'e2e-artifacts', {
    heartbeat: { interval_ms: 500, stale_after_missed: 3, offline_after_ms: 4000 },
  })
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

async function show(dataDir: string, cid: string): Promise<ArtifactView> {
  const res = await runRipple(['artifact', 'show', cid, '--data-dir', dataDir, '--json'])
  expect(res.code, res.stderr).toBe(0)
  return JSON.parse(res.stdout) as ArtifactView
}

describe('artifacts across three ripple up processes', { timeout: 180_000 }, () => {
  it('add on one, replicated to 2, got with the same bytes on another, restored after a holder is killed', async () => {
    const [alpha, beta] = daemons
    const file = join(root, 'input.bin')
    const bytes = randomBytes(3 * 1024 * 1024 + 123)
    await writeFile(file, bytes)
    const added = await runRipple([
      'artifact',
      'add',
      file,
      '--replication',
      '2',
      '--data-dir',
      alpha!.dataDir,
    ])
    expect(added.code, added.stderr).toBe(0)
    const cid = added.stdout.trim()
    expect(cid).toMatch(/^bafybei/)

    // Some peer other than alpha takes the second copy by itself.
    let holders: string[] = []
    await eventually(async () => {
      holders = (await show(alpha!.dataDir, cid)).holders.map((h) => h.author)
      expect(holders).toHaveLength(2)
    }, 60_000)
    expect(holders).toContain(alpha!.agent)
    const second = daemons.find((d) => d !== alpha && holders.includes(d.agent))!
    const third = daemons.find((d) => d !== alpha && d !== second)!

    const out = join(root, 'output.bin')
    const got = await runRipple(['artifact', 'get', cid, '-o', out, '--data-dir', third.dataDir])
    expect(got.code, got.stderr).toBe(0)
    expect(got.stderr).toContain('sha256 verified')
    const back = await readFile(out)
    expect(createHash('sha256').update(back).digest('hex')).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    )

    // Peers that decided from different views may overshoot for a moment; the surplus copy is released.
    await eventually(async () => {
      const listed = await runRipple(['artifact', 'ls', '--data-dir', beta!.dataDir])
      expect(listed.stdout).toMatch(new RegExp(`${cid}\\s+input\\.bin\\s+3\\.0 MiB\\s+2/2`))
    }, 30_000)

    second.child.kill('SIGKILL')
    await second.exited
    await eventually(async () => {
      const now = (await show(alpha!.dataDir, cid)).holders.map((h) => h.author)
      expect(now).toContain(third.agent)
    }, 90_000)
    // The third peer holds it: it serves the bytes from its own store.
    const local = await runRipple([
      'artifact',
      'get',
      cid,
      '-o',
      join(root, 'again.bin'),
      '--data-dir',
      third.dataDir,
    ])
    expect(local.code, local.stderr).toBe(0)
    expect((await readFile(join(root, 'again.bin'))).equals(bytes)).toBe(true)
  })

  it('a task whose input and output exceed what a private payload carries runs through sealed CIDs, with provenance', async () => {
    // Alpha was never killed (the first test killed whichever peer held the second copy).
    const [alpha] = daemons
    const input = join(root, 'big-input.json')
    // Over 2 MiB: above what a private payload carries.
    const message = 'y'.repeat(2 * 1024 * 1024 + 1024)
    await writeFile(input, JSON.stringify({ message, delay_ms: 1 }))
    const res = await runRipple([
      'task',
      'submit',
      'echo',
      '--input',
      `@${input}`,
      '--wait',
      '--data-dir',
      alpha!.dataDir,
    ])
    expect(res.code, res.stderr).toBe(0)
    const hash = /^ripple: submitted (\S+)$/m.exec(res.stderr)?.[1] ?? ''
    // The requester reads the output itself, opened with the key its assignee gave it.
    expect(JSON.parse(res.stdout)).toEqual({ message })

    const shown = await runRipple(['task', 'show', hash, '--data-dir', alpha!.dataDir])
    const outputCid = /^artifact\s+(baf\S+)/m.exec(shown.stdout)?.[1] ?? ''
    expect(outputCid).toMatch(/^baf/)
    const output = await show(alpha!.dataDir, outputCid)
    expect(output.artifact.entry.name).toBe('echo-output.sealed')
    expect(output.artifact.entry.provenance.task).toBe(hash)
    expect(output.artifact.entry.provenance.result).not.toBeNull()
    expect(output.artifact.entry.provenance.input_cids).toHaveLength(1)
    expect(output.artifact.entry.provenance.tool).toBe('echo')
    // What IPFS holds is sealed: whoever fetches the CID gets no text.
    const out = join(root, 'big-output.sealed')
    const got = await runRipple(['artifact', 'get', outputCid, '-o', out, '--data-dir', alpha!.dataDir])
    expect(got.code, got.stderr).toBe(0)
    const sealed = await readFile(out)
    expect(sealed.length).toBeGreaterThan(2 * 1024 * 1024)
    expect(sealed.includes('y'.repeat(64))).toBe(false)
  })

  it('a CID nobody registered is a clear error; the daemon keeps serving', async () => {
    const [alpha] = daemons
    const unknown = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
    const res = await runRipple(['artifact', 'get', unknown, '--data-dir', alpha!.dataDir])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain(`no artifact is registered for ${unknown}`)
    const bad = await runRipple(['artifact', 'show', 'not-a-cid', '--data-dir', alpha!.dataDir])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/cid/i)
    const status = await runRipple(['status', '--data-dir', alpha!.dataDir])
    expect(status.code, status.stderr).toBe(0)
  })
})
