/**
 * Issue 55, item 4, from outside with real `ripple up` processes on loopback: a joiner takes a witness
 * statement, and a refusal of its invite, only from a peer it can show is a member of its mesh. The
 * admin invites M (witnessed by the admin), then writes J's invite and goes offline with M. J starts
 * with a forged statement already in its data dir and a peer E at hand that has the network key (from
 * J's own invite) and no membership: E answers J in turn with a statement for another mesh, a statement
 * for this mesh with M's genesis proof copied as its own, and a "final" refusal. J drops the kept file,
 * takes none of E's answers and keeps asking, saying why each was not taken; once M is back, M (a member
 * by the admin's grant and witness, its proofs in its answer) witnesses J, J's genesis goes out with M's
 * statement, and M's daemon lists J as a peer.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PeerId } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { signStatement, type WitnessStatement } from '../../host/identity/membrane-grant.ts'
import { agentOfPeerB64 } from '../../host/identity/peer-agent.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { ADMIT_PROTOCOL, type AdmitAnswer, encodeWire } from '../../host/membership/admission-wire.ts'
import { networkIdHex } from '../../host/membership/invite.ts'
import type { Invite } from '../../host/membership/invite-schema.ts'
import { createRippleNode, type RippleNode } from '../../host/net/create-node.ts'
import { peerKeyFromSeed } from '../../host/net/peer-key.ts'
import { eventually, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let root: string
const daemons: RunningRipple[] = []
let evil: RippleNode | null = null
const agentOf = (d: RunningRipple) => /^ripple: agent (\S+)$/m.exec(d.stdout())?.[1] ?? ''
const dirOf = (name: string) => join(root, name)

async function start(name: string, flags: string[]): Promise<RunningRipple> {
  const args = ['--data-dir', dirOf(name), '--api-port', '0', '--name', name]
  const daemon = await startRipple([...args, '--log-level', 'warn', ...flags], 120_000)
  daemons.push(daemon)
  return daemon
}

async function stop(daemon: RunningRipple): Promise<void> {
  daemon.child.kill('SIGTERM')
  expect(await daemon.exited).toBe(0)
}

async function writeInvite(): Promise<{ path: string; invite: Invite }> {
  const path = join(root, `invite-${Math.random().toString(16).slice(2)}.json`)
  const res = await runRipple(['invite', 'create', '--data-dir', dirOf('admin'), '--out', path])
  expect(res.code, res.stderr).toBe(0)
  expect(res.stdout).toContain('joiners need Ripple 0.2.0 or later')
  return { path, invite: JSON.parse(await readFile(path, 'utf8')) as Invite }
}

let admin: RunningRipple
let m: RunningRipple
let mAgent: string
let jInvite: { path: string; invite: Invite }

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-joiner-trust-'))
  admin = await start('admin', [])
  const mInvite = await writeInvite()
  m = await start('m', ['--join-file', mInvite.path])
  mAgent = agentOf(m)
  jInvite = await writeInvite()
  await stop(admin)
  await stop(m)
}, 300_000)

afterAll(async () => {
  await evil?.stop()
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

/** E: the network key (J's invite carries it), no membership; answers in turn as the attacker would. */
async function startEvil(): Promise<{ node: RippleNode; asked: () => number }> {
  const key = await openAgentKey(dirOf('evil'))
  const eAgent = encodeHashB64(key.agentPubKey)
  const { network, grant } = jInvite.invite
  const mKept = JSON.parse(await readFile(join(dirOf('m'), 'admission.json'), 'utf8'))
  const mJoined = JSON.parse(await readFile(join(dirOf('m'), 'invite.json'), 'utf8')) as Invite
  // M's genesis proof, as anyone with the network key can read it, sent as E's.
  const copied = {
    agent: eAgent,
    grant: mJoined.grant,
    signature: mJoined.signature,
    witness: { statement: mKept.statement, signature: mKept.signature },
  }
  let asked = 0
  const statementFor = (agent: string, networkId: string) => {
    const statement: WitnessStatement = {
      network_id: networkId,
      invite_id: grant.invite_id,
      agent,
      witnessed_at: Date.now() * 1000,
      witness: eAgent,
    }
    return { statement, signature: signStatement(statement, key) }
  }
  const answers = (agent: string): AdmitAnswer[] => [
    { kind: 'witnessed', witness: statementFor(agent, 'f'.repeat(64)) },
    { kind: 'witnessed', witness: statementFor(agent, networkIdHex(network)), member: [copied] },
    { kind: 'refused', why: 'invite expired (says E)', final: true },
  ]
  const node = await createRippleNode({
    network: { ...network, libp2p: { ...network.libp2p!, mdns: false, bootstrap: [] } },
    privateKey: await peerKeyFromSeed(key.exportSeed()),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    logger: silentLogger(),
    start: false,
  })
  await node.rpc.handle(
    ADMIT_PROTOCOL,
    async (_request: Uint8Array, peer: PeerId) => {
      const answer = answers(agentOfPeerB64(peer) ?? '')[asked % 3]!
      asked += 1
      return encodeWire(answer)
    },
    { openToNetwork: true },
  )
  await node.start()
  return { node, asked: () => asked }
}

describe('a joiner believes members only', { timeout: 300_000 }, () => {
  it('J ignores a forged kept statement and a non-member’s answers, and joins through member M', async () => {
    const e = await startEvil()
    evil = e.node
    // A statement for J's agent and invite, but for another mesh, kept from "an earlier start".
    const jKey = await openAgentKey(dirOf('j'))
    const forged: WitnessStatement = {
      network_id: 'e'.repeat(64),
      invite_id: jInvite.invite.grant.invite_id,
      agent: encodeHashB64(jKey.agentPubKey),
      witnessed_at: Date.now() * 1000,
      witness: encodeHashB64(jKey.agentPubKey),
    }
    await writeFile(
      join(dirOf('j'), 'admission.json'),
      JSON.stringify({ statement: forged, signature: signStatement(forged, jKey) }),
    )
    const addr = e.node.multiaddrs()[0]!.toString()
    const j = start('j', ['--join-file', jInvite.path, '--peer', addr])
    j.catch(() => {})
    // Every kind of E's answer was given (J asks once a round), while no member is up.
    await eventually(async () => expect(e.asked()).toBeGreaterThanOrEqual(4), 90_000)
    m = await start('m', [])
    const joined = await j
    const out = joined.stdout()
    expect(out).toMatch(
      /dropped the witness statement kept in .*admission\.json: its statement is for another mesh/,
    )
    expect(out).toContain('its statement is for another mesh; not taken')
    expect(out).toMatch(/its witness is not shown a member of this mesh \(.*\); not taken/)
    expect(out).toMatch(/refused the invite \(invite expired \(says E\)\) but is not shown a member/)
    expect(out).toContain(`ripple: invite ${jInvite.invite.grant.invite_id} witnessed by ${mAgent}`)
    const kept = JSON.parse(await readFile(join(dirOf('j'), 'admission.json'), 'utf8'))
    expect(kept.statement).toMatchObject({ agent: agentOf(joined), witness: mAgent })
    // M's daemon holds J's genesis and takes J for a member: its peers list it.
    await eventually(async () => {
      const res = await runRipple(['peers', '--data-dir', dirOf('m'), '--json'])
      expect(res.code, res.stderr).toBe(0)
      const seen = (JSON.parse(res.stdout) as PeersReply).peers.find((p) => p.agent === agentOf(joined))
      expect(seen?.status).toBe('online')
    }, 60_000)
  })
})
