/**
 * Issue 55, item 2, from outside with real `ripple up` processes on loopback: versions are counted over
 * members only. An admin and a member M (joined by invite) run a private mesh; a stranger S holding the
 * network key (copied out of M's invite) and never admitted connects, states the release before 0.2.0
 * in its hello (what a 0.1.0 peer is taken to speak), and sends the admin a signed heartbeat every
 * second on the signals gossip, as a peer of the mesh would. While S beats, the admin hears it as
 * nobody's (its debug log says it ignored the heartbeat of a non-member): `ripple invite create` still
 * writes a witnessed invite with no warning of the 0.1.0 form, a task submitted is salted, and
 * `ripple peers` lists M and not S. Before the fix, S was counted as a member to wait for: invites fell
 * back to the 0.1.0 form (judged by the joiner's clock) and tasks went unsalted, silently.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import { createGossipSignalTransport } from '../../host/conductor/embedded/replication/index.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { payloadHash } from '../../host/identity/payload-hash.ts'
import { peerIdOfAgent } from '../../host/identity/peer-agent.ts'
import { UNSTATED } from '../../host/interface/release.ts'
import { silentLogger } from '../../host/log/logger.ts'
import type { Invite } from '../../host/membership/invite-schema.ts'
import { createRippleNode, type RippleNode } from '../../host/net/create-node.ts'
import { peerKeyFromSeed } from '../../host/net/peer-key.ts'
import type { TaskView } from '../../host/scheduler/scheduler-service.ts'
import type { Heartbeat } from '../../zomes-bindings/agent_registry.ts'
import { eventually, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let root: string
const daemons: RunningRipple[] = []
const agentOf = (d: RunningRipple) => /^ripple: agent (\S+)$/m.exec(d.stdout())?.[1] ?? ''
const dirOf = (name: string) => join(root, name)
const LEGACY_WARNING = 'an invite of the 0.1.0 form'

async function start(name: string, flags: string[]): Promise<RunningRipple> {
  const args = [
    '--data-dir',
    dirOf(name),
    '--api-port',
    '0',
    '--name',
    name,
    '--tag',
    `${name}-${process.pid}`,
  ]
  const daemon = await startRipple([...args, ...flags], 120_000)
  daemons.push(daemon)
  return daemon
}

async function writeInvite(): Promise<{ path: string; invite: Invite; said: string }> {
  const path = join(root, `invite-${Math.random().toString(16).slice(2)}.json`)
  const res = await runRipple(['invite', 'create', '--data-dir', dirOf('admin'), '--out', path])
  expect(res.code, res.stderr).toBe(0)
  return { path, invite: JSON.parse(await readFile(path, 'utf8')) as Invite, said: res.stdout }
}

async function peersOfAdmin(): Promise<PeersReply> {
  const res = await runRipple(['peers', '--data-dir', dirOf('admin'), '--json'])
  expect(res.code, res.stderr).toBe(0)
  return JSON.parse(res.stdout) as PeersReply
}

/** S: a fresh agent, the network section of an invite (the key), no genesis; beats until stopped. */
async function startStranger(
  invite: Invite,
  adminAddr: string,
): Promise<{ node: RippleNode; agent: string; stop: () => Promise<void> }> {
  const key = await openAgentKey(dirOf('stranger'))
  const agent = encodeHashB64(key.agentPubKey)
  const { network } = invite
  const node = await createRippleNode({
    network: { ...network, libp2p: { ...network.libp2p!, mdns: false, bootstrap: [] } },
    privateKey: await peerKeyFromSeed(key.exportSeed()),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    peers: [adminAddr],
    // What a 0.1.0 peer is taken to speak: no witnessed grants, no salts.
    statement: UNSTATED,
    logger: silentLogger(),
  })
  const signals = createGossipSignalTransport({ pubsub: node.pubsub, key })
  const beat = () => {
    const heartbeat: Heartbeat = {
      cpu_pct: 1,
      ram_pct: 1,
      gpu_pct: null,
      queue_depth: 0,
      timestamp: Date.now() * 1000,
    }
    signals.broadcast({ dna: 'agent_registry', from: agent, payload: heartbeat }).catch(() => {})
  }
  beat()
  const timer = setInterval(beat, 1_000)
  return {
    node,
    agent,
    stop: async () => {
      clearInterval(timer)
      await signals.close()
      await node.stop()
    },
  }
}

let admin: RunningRipple
let m: RunningRipple
let stranger: Awaited<ReturnType<typeof startStranger>> | null = null

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-versions-members-'))
  // Debug: the admin says each heartbeat it ignored, the proof that S's reached it.
  admin = await start('admin', ['--log-level', 'debug'])
  const { path, invite } = await writeInvite()
  expect(invite.grant.witnessed).toBe(true)
  m = await start('m', ['--log-level', 'warn', '--join-file', path])
  const adminAddr = /^ripple: listening (\S+)$/m.exec(admin.stdout())?.[1] ?? ''
  stranger = await startStranger(invite, adminAddr)
}, 300_000)

afterAll(async () => {
  await stranger?.stop()
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

describe('versions are counted over members only', { timeout: 180_000 }, () => {
  it('a key holder that beats as a 0.1.0 peer holds back no new form, and is listed by no member', async () => {
    const s = stranger!
    const adminPeer = peerIdOfAgent(agentOf(admin))
    // S passed the admin's hello (stating 0.1.0) and the admin has heard its heartbeats on gossip.
    await eventually(async () => expect(s.node.peers.has(adminPeer)).toBe(true), 60_000)
    const heard = new RegExp(`"from":"${s.agent}".*ignored a heartbeat from an agent that is not a member`)
    await eventually(async () => {
      const logs = admin.stderr()
      // Before the fix S's heartbeats were taken: `ripple peers` listed it. Either way it was heard.
      const listed = (await peersOfAdmin()).peers.some((p) => p.agent === s.agent)
      expect(listed || heard.test(logs)).toBe(true)
    }, 60_000)
    // Two more beats, so the admin's view is what it is while S keeps beating.
    await new Promise((resolve) => setTimeout(resolve, 2_500))

    const { invite, said } = await writeInvite()
    expect(invite.grant.witnessed).toBe(true)
    expect(said).toContain('joiners need Ripple 0.2.0 or later')
    expect(said).toContain('a member online witnesses its redemption')
    expect(`${admin.stdout()}${admin.stderr()}`).not.toContain(LEGACY_WARNING)

    const input = { message: `salted at ${Date.now()}` }
    const submitted = await runRipple([
      'task',
      'submit',
      'echo',
      '--input',
      JSON.stringify(input),
      '--tag',
      `admin-${process.pid}`,
      '--data-dir',
      dirOf('admin'),
    ])
    expect(submitted.code, submitted.stderr).toBe(0)
    const shown = await runRipple([
      'task',
      'show',
      submitted.stdout.trim(),
      '--json',
      '--data-dir',
      dirOf('admin'),
    ])
    expect(shown.code, shown.stderr).toBe(0)
    const view = JSON.parse(shown.stdout) as TaskView
    // Salted: its published hash is not the hash of the input anyone could guess.
    expect(view.state.task.entry.input_hash).not.toBe(payloadHash(input))

    const peers = (await peersOfAdmin()).peers
    expect(peers.map((p) => p.agent)).not.toContain(s.agent)
    expect(peers.find((p) => p.agent === agentOf(m))?.status).toBe('online')
    expect(heard.test(admin.stderr())).toBe(true)
  })
})
