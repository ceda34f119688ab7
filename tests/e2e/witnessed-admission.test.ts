/**
 * Issue 43, point 1, from outside with real `ripple up` processes on loopback: an invite's expiry and
 * single use are judged by the member that witnesses its redemption, never by the joiner's clock. A
 * machine B joins with a fresh invite and is served; a machine C starts with the same invite and its
 * clock an hour behind, and a stranger with an expired invite and its clock a day behind: both are
 * refused with the member's reason, write no genesis, are listed by none of the admin's peers, and B
 * keeps being served. The joiners' clocks are set back with libfaketime (Debian's `faketime`, installed
 * by scripts/install-system-deps.sh) around the whole `ripple up` process, as the issue reproduced it:
 * every time the process reads, its chain's action times and its own check of the invite among them.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import type { Invite } from '../../host/membership/invite-schema.ts'
import type { TaskView } from '../../host/scheduler/scheduler-service.ts'
import {
  LOOPBACK_FLAGS,
  REPO_ROOT,
  RIPPLE_BIN,
  type RunningRipple,
  runRipple,
  startRipple,
} from './ripple-process.ts'

const HOUR = 3_600_000
let root: string
const tag = (name: string) => `${name}-${process.pid}`
const daemons: RunningRipple[] = []
const agentOf = (d: RunningRipple) => /^ripple: agent (\S+)$/m.exec(d.stdout())?.[1] ?? ''
let admin: RunningRipple
let b: RunningRipple
let invitePath: string
let invite: Invite
let inviteSaid: string

const dirOf = (name: string) => join(root, name)

async function start(name: string, flags: string[]): Promise<RunningRipple> {
  const args = ['--data-dir', dirOf(name), '--api-port', '0', '--name', name, '--tag', tag(name)]
  const daemon = await startRipple([...args, '--log-level', 'warn', ...flags], 90_000)
  daemons.push(daemon)
  return daemon
}

async function writeInvite(flags: string[]): Promise<{ path: string; invite: Invite; said: string }> {
  const path = join(root, `invite-${Math.random().toString(16).slice(2)}.json`)
  const res = await runRipple(['invite', 'create', '--data-dir', dirOf('admin'), '--out', path, ...flags])
  expect(res.code, res.stderr).toBe(0)
  return { path, invite: JSON.parse(await readFile(path, 'utf8')) as Invite, said: res.stdout }
}

/**
 * A command run under libfaketime with its clock `offsetMs` off. Monotonic clocks are left alone: timers
 * and durations run as on any machine whose wall clock is wrong.
 */
function underFaketime(offsetMs: number, command: string[]) {
  const env = { ...process.env, FAKETIME_DONT_FAKE_MONOTONIC: '1' }
  const [bin, ...rest] = ['faketime', '-f', `${offsetMs / 1000}s`, ...command]
  return { bin: bin as string, args: rest, env }
}

/** `ripple up` joining with `path` on a machine whose clock is `offsetMs` off; resolves when it exits. */
async function joinWithClock(name: string, path: string, offsetMs: number) {
  const up = [RIPPLE_BIN, 'up', ...LOOPBACK_FLAGS, '--data-dir', dirOf(name), '--api-port', '0']
  const { bin, args, env } = underFaketime(offsetMs, [process.execPath, ...up, '--join-file', path])
  try {
    const out = await promisify(execFile)(bin, args, {
      cwd: REPO_ROOT,
      env,
      timeout: 60_000,
    })
    return { code: 0, ...out }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

async function peersOfAdmin(): Promise<PeersReply> {
  const res = await runRipple(['peers', '--data-dir', dirOf('admin'), '--json'])
  expect(res.code, res.stderr).toBe(0)
  return JSON.parse(res.stdout) as PeersReply
}

/** A task only B can run (its tag), submitted by the admin: done, by B. */
async function expectBServed(): Promise<void> {
  const input = JSON.stringify({ message: `for b at ${Date.now()}` })
  const res = await runRipple([
    'task',
    'submit',
    'echo',
    '--input',
    input,
    '--tag',
    tag('b'),
    '--timeout',
    '25s',
    '--wait',
    '--json',
    '--data-dir',
    dirOf('admin'),
  ])
  expect(res.code, res.stderr).toBe(0)
  const view = JSON.parse(res.stdout) as TaskView
  expect(view.state.status).toBe('done')
  expect(view.state.results.map((r) => r.author)).toEqual([agentOf(b)])
}

/** The refused joiner's agent is nowhere in the admin's view, and it wrote no chain. */
async function expectUnknown(name: string): Promise<void> {
  const agent = encodeHashB64((await openAgentKey(dirOf(name))).agentPubKey)
  const reply = await peersOfAdmin()
  expect(reply.peers.map((p) => p.agent)).not.toContain(agent)
  expect(reply.warrants.map((w) => w.agent)).not.toContain(agent)
  await expect(stat(join(dirOf(name), 'conductor.sqlite'))).rejects.toThrow()
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-witness-'))
  admin = await start('admin', [])
  ;({
    path: invitePath,
    invite,
    said: inviteSaid,
  } = await writeInvite(['--role', 'worker', '--expires', '1h']))
  b = await start('b', ['--join-file', invitePath])
}, 180_000)

afterAll(async () => {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

describe('admission is witnessed by a member, not asserted by the joiner', { timeout: 120_000 }, () => {
  it('B redeems a fresh invite with the admin as witness, and is served', async () => {
    expect(invite.grant.witnessed).toBe(true)
    expect(inviteSaid).toContain('it needs Ripple 0.2.0 or later to redeem')
    expect(b.stdout()).toContain(`ripple: invite ${invite.grant.invite_id} witnessed by ${agentOf(admin)}`)
    const witness = JSON.parse(await readFile(join(dirOf('b'), 'admission.json'), 'utf8'))
    expect(witness.statement).toMatchObject({ agent: agentOf(b), witness: agentOf(admin) })
    await expectBServed()
  })

  it('libfaketime sets a Node process’s clock back, as the joiners below run', async () => {
    const { bin, args, env } = underFaketime(-24 * HOUR, [process.execPath, '-p', 'Date.now()'])
    const { stdout } = await promisify(execFile)(bin, args, { env })
    expect(Date.now() - Number(stdout)).toBeGreaterThan(24 * HOUR - 60_000)
    expect(Date.now() - Number(stdout)).toBeLessThan(24 * HOUR + 60_000)
  })

  it('C, with the same invite and its clock an hour behind, is refused: the invite was used', async () => {
    const c = await joinWithClock('c', invitePath, -HOUR)
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(
      new RegExp(
        `the mesh refused this invite: member ${agentOf(admin)} says invite ${invite.grant.invite_id} admits 1 machine\\(s\\) and was used already \\(by ${agentOf(b)}\\)`,
      ),
    )
    await expectUnknown('c')
    await expectBServed()
  })

  it('a stranger with an expired invite and its clock a day behind is refused by the admin’s clock', async () => {
    const { path, invite: old } = await writeInvite(['--expires', '1ms'])
    while (Date.now() <= old.grant.expires_at) await new Promise((resolve) => setTimeout(resolve, 5))
    const stranger = await joinWithClock('stranger', path, -24 * HOUR)
    expect(stranger.code).toBe(1)
    expect(stranger.stderr).toContain(
      `invite ${old.grant.invite_id} expired at ${new Date(old.grant.expires_at).toISOString()} by this member's clock`,
    )
    await expectUnknown('stranger')
    await expectBServed()
  })
})
