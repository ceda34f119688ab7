/**
 * Safe by default on the LAN, with real `ripple up` processes on loopback: a first peer on the default
 * `local` network creates a private mesh (its own seed and pre-shared key, itself as admin); a second
 * joins with an invite written by `ripple invite create` and runs the first peer's task; a stranger on
 * the same loopback, on the open network and told the first peer's address, cannot connect, so its task
 * runs nowhere and the first peer never hears of it; an expired invite is refused. Membership is more
 * than the key: a node holding an expired invite's key is served no run, no RPC server and no build id,
 * and a second machine on an invite already used is refused by the member that witnesses redemptions
 * (witnessed-admission.test.ts plays it with the joiners' clocks set back).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { peerIdOfAgent } from '../../host/identity/peer-agent.ts'
import type { Invite } from '../../host/membership/invite-schema.ts'
import { createRippleNode } from '../../host/net/create-node.ts'
import { DIRECT_PROTOCOL_V1 } from '../../host/requests/direct/direct-wire.ts'
import type { TaskSummary, TaskView } from '../../host/scheduler/scheduler-service.ts'
import { RPC_TUNNEL_PROTOCOL } from '../../host/split/rpc-tunnel.ts'
import { LOOPBACK_FLAGS, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let root: string
/** Tags unique to this run: other tests' daemons on this machine's open network never match them. */
const tag = (name: string) => `${name}-${process.pid}`
const dirs = { first: '', joined: '', stranger: '', leaked: '' }
const daemons: RunningRipple[] = []
const agentOf = (d: RunningRipple) => /^ripple: agent (\S+)$/m.exec(d.stdout())?.[1] ?? ''
let first: RunningRipple
let joined: RunningRipple
let stranger: RunningRipple

async function start(name: keyof typeof dirs, flags: string[]): Promise<RunningRipple> {
  dirs[name] = join(root, name)
  const daemon = await startRipple(
    [
      '--data-dir',
      dirs[name],
      '--api-port',
      '0',
      '--name',
      name,
      '--tag',
      tag(name),
      '--log-level',
      'warn',
      ...flags,
    ],
    90_000,
  )
  daemons.push(daemon)
  return daemon
}

async function peersOf(dir: string): Promise<PeersReply> {
  const res = await runRipple(['peers', '--data-dir', dir, '--json'])
  expect(res.code, res.stderr).toBe(0)
  return JSON.parse(res.stdout) as PeersReply
}

/** Polls `read` until `ok` holds (or the deadline passes, with the last reply in the error). */
async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

/**
 * A task submitted from `dir` that only the first peer could run (a tag only it has) runs nowhere: no
 * peer it knows can claim it, so `--wait` gives up and cancels it (or it expires at its deadline), and
 * the first peer never hears of it.
 */
async function expectRunNowhere(dir: string): Promise<void> {
  const input = JSON.stringify({ message: `from ${dir}` })
  const res = await runRipple([
    'task',
    'submit',
    'echo',
    '--input',
    input,
    '--tag',
    tag('first'),
    '--timeout',
    '3s',
    '--wait',
    '--data-dir',
    dir,
  ])
  expect(res.code).toBe(1)
  expect(res.stderr, res.stderr).toMatch(/no peer can serve task \S+ \(cancelled it\)|expired/)
  const submitted = /submitted (\S+)/.exec(res.stderr)?.[1]
  expect(submitted).toBeDefined()
  const ls = await runRipple(['task', 'ls', '--json', '--data-dir', dirs.first])
  expect((JSON.parse(ls.stdout) as TaskSummary[]).map((t) => t.action_hash)).not.toContain(submitted)
}

async function invite(flags: string[]): Promise<{ path: string; invite: Invite }> {
  const path = join(root, `invite-${Math.random().toString(16).slice(2)}.json`)
  const res = await runRipple(['invite', 'create', '--data-dir', dirs.first, '--out', path, ...flags])
  expect(res.code, res.stderr).toBe(0)
  return { path, invite: JSON.parse(await readFile(path, 'utf8')) as Invite }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-mesh-'))
  first = await start('first', [])
  const { path } = await invite(['--role', 'worker'])
  const firstAddress = /^ripple: listening (\S+)$/m.exec(first.stdout())?.[1] ?? ''
  ;[joined, stranger] = await Promise.all([
    start('joined', ['--join-file', path]),
    start('stranger', ['--open', '--peer', firstAddress]),
  ])
}, 180_000)

afterAll(async () => {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

describe('the default local network is a private mesh', { timeout: 90_000 }, () => {
  it('the first peer creates it: its own key, a fresh seed, itself as admin, in a 0600 file', async () => {
    expect(first.stdout()).toMatch(/ripple: private mesh created; this peer is its admin/)
    const file = join(dirs.first, 'network.json')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const mesh = JSON.parse(await readFile(file, 'utf8')) as NetworkConfig
    expect(mesh.libp2p?.psk).toMatch(/^[0-9a-f]{64}$/)
    expect(mesh.dna_properties.policy_store?.progenitor).toBe(agentOf(first))
    expect(mesh.seed).not.toBe('ripple-local-v1')
  })

  it('an invite is a 0600 file signed by the admin; a peer joined as worker cannot invite', async () => {
    const { path, invite: written } = await invite(['--role', 'member', '--expires', '2h'])
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(written.grant).toMatchObject({ role: 'member', issuer: agentOf(first) })
    expect(written.grant.expires_at - written.grant.issued_at).toBe(2 * 3_600_000)
    const refused = await runRipple(['invite', 'create', '--data-dir', dirs.joined, '--out', '-'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/NotMeshAdminError \(HTTP 403\): only an admin of this mesh/)
  })

  it('a peer joined with an invite runs the first peer’s task', async () => {
    expect(joined.stdout()).toMatch(/ripple: private mesh joined/)
    // Each holds the other's chain: the joined peer's genesis (with its invite) passed the first's rules.
    await eventually(
      () => peersOf(dirs.first),
      (r) =>
        r.peers.some((p) => p.agent === agentOf(joined) && p.status === 'online' && p.capability !== null),
    )
    const res = await runRipple([
      'task',
      'submit',
      'echo',
      '--input',
      '{"message":"from first"}',
      '--tag',
      tag('joined'),
      '--timeout',
      '25s',
      '--wait',
      '--json',
      '--data-dir',
      dirs.first,
    ])
    expect(res.code, res.stderr).toBe(0)
    const view = JSON.parse(res.stdout) as TaskView
    expect(view.state.status).toBe('done')
    expect(view.state.results.map((r) => r.author)).toEqual([agentOf(joined)])
    const peers = await peersOf(dirs.first)
    expect(peers.peers.map((p) => p.agent).sort()).toEqual([agentOf(first), agentOf(joined)].sort())
  })

  it('a stranger on the open network, told its address, cannot connect nor have its task run', async () => {
    await expectRunNowhere(dirs.stranger)
    expect((await peersOf(dirs.first)).peers.map((p) => p.agent)).not.toContain(agentOf(stranger))
    // Other open-network peers on this machine may be heard; never the private mesh's.
    expect((await peersOf(dirs.stranger)).peers.map((p) => p.agent)).not.toContain(agentOf(first))
  })

  it('a peer holding a leaked key but no invite is refused by the rules: its ops are stored nowhere', async () => {
    // The mesh file copied off the first machine: the key lets it connect; nothing admits its agent.
    const leakedFile = join(root, 'leaked.json')
    await writeFile(leakedFile, await readFile(join(dirs.first, 'network.json')))
    const leaked = await start('leaked', ['--network', leakedFile])
    const reply = await eventually(
      () => peersOf(dirs.first),
      (r) => r.warrants.some((w) => w.agent === agentOf(leaked)),
    )
    expect(reply.warrants.find((w) => w.agent === agentOf(leaked))?.rule).toBe('membrane_proof.missing')
    // Not a member: its heartbeats are not heard (issue 55, point 2), and its capability (an op) is stored nowhere.
    expect(reply.peers.find((p) => p.agent === agentOf(leaked))).toBeUndefined()
    // Its own rules give it no role here: it cannot even write a task.
    const input = '{"message":"from the leaked key"}'
    const res = await runRipple(['task', 'submit', 'echo', '--input', input, '--data-dir', dirs.leaked])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(
      /HTTP 403\): task\.author_role_unknown: the author has no role here: it joined without an invite/,
    )
  })

  it('an expired invite is refused, and nothing is started', async () => {
    const { path, invite: old } = await invite(['--expires', '1ms'])
    while (Date.now() <= old.grant.expires_at) await new Promise((resolve) => setTimeout(resolve, 5))
    const late = join(root, 'late')
    const res = await runRipple([
      'up',
      ...LOOPBACK_FLAGS,
      '--data-dir',
      late,
      '--join-file',
      path,
      '--api-port',
      '0',
    ])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(
      `invite ${old.grant.invite_id} expired at ${new Date(old.grant.expires_at).toISOString()}`,
    )
    await expect(stat(join(late, 'agent.key'))).rejects.toThrow()
  })

  it('a node holding an expired invite’s key is served nothing: no run, no RPC server, no build id', async () => {
    const { invite: old } = await invite(['--expires', '1ms'])
    while (Date.now() <= old.grant.expires_at) await new Promise((resolve) => setTimeout(resolve, 5))
    // What an attacker does with it: a fresh agent key and the network section (the pre-shared key).
    const node = await createRippleNode({
      network: old.network,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      peers: [/^ripple: listening (\S+)$/m.exec(first.stdout())?.[1] ?? ''],
      mdnsInterface: '127.0.0.1',
    })
    try {
      const firstPeer = peerIdOfAgent(agentOf(first))
      await eventually(
        async () => node.peers.has(firstPeer),
        (connected) => connected,
      )
      /** Sends one frame and reads: the stream is reset with no answer (maybe before the write lands). */
      const answerTo = async (protocol: string, frame: unknown) => {
        const stream = lpStream(await node.streams.open(firstPeer, protocol))
        await stream.write(new TextEncoder().encode(JSON.stringify(frame))).catch(() => {})
        return stream.read().then((answer) => new TextDecoder().decode(answer.subarray()))
      }
      // The tunnel's first frame names a build: a member with another build is told the worker's.
      await expect(answerTo(RPC_TUNNEL_PROTOCOL, { build: 'not-this-one' })).rejects.toThrow()
      const request = { kind: 'generate_text', model: 'any', input: { prompt: 'hi' } }
      await expect(answerTo(DIRECT_PROTOCOL_V1, { type: 'request', request, queue: false })).rejects.toThrow()
      const logs = `${first.stdout()}${first.stderr()}`
      expect(logs).toMatch(/refused a peer that is not a member of this mesh/)
      expect(logs).toContain(node.peerId.toString())
      expect(logs).not.toMatch(/serving a split head over the RPC tunnel/)
    } finally {
      await node.stop()
    }
  })

  it('a second machine with an invite already used is refused by its witness, and starts nothing', async () => {
    const used = join(root, 'used.json')
    await writeFile(used, await readFile(join(dirs.joined, 'invite.json')), { mode: 0o600 })
    const { grant } = JSON.parse(await readFile(used, 'utf8')) as Invite
    const second = join(root, 'second')
    const res = await runRipple([
      'up',
      ...LOOPBACK_FLAGS,
      '--data-dir',
      second,
      '--join-file',
      used,
      '--api-port',
      '0',
    ])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(
      `the mesh refused this invite: member ${agentOf(first)} says invite ${grant.invite_id} admits 1 machine(s) and was used already (by ${agentOf(joined)})`,
    )
    // No genesis was written, so no peer holds a chain of its.
    await expect(stat(join(second, 'conductor.sqlite'))).rejects.toThrow()
    const agent = encodeHashB64((await openAgentKey(second)).agentPubKey)
    expect((await peersOf(dirs.first)).peers.map((p) => p.agent)).not.toContain(agent)
  })
})
