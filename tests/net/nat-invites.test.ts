/**
 * A testnet mesh that requires invites, across the NAT lab (nat-lab.ts): home1 is its admin, a worker
 * behind another NAT joins with an invite through the relay. A peer running the mesh's own network file
 * but without an invite is refused by every peer (the rules: membrane_proof.missing); a member the
 * admin revokes is dropped by every peer, and a task it submits afterwards is stored by nobody. Expired
 * and other-network invites are refused before anything starts (tests/e2e/private-mesh.test.ts) and by
 * the rules (tests/vectors). Needs root, `ip` and `nft`; skipped, with the reason, without them.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import type { Invite } from '../../host/membership/invite-schema.ts'
import type { TaskSummary } from '../../host/scheduler/scheduler-service.ts'
import { LabMesh, type LabPeer, relayedLink } from './lab-mesh.ts'
import { natLabUnavailable } from './nat-lab.ts'

const unavailable = await natLabUnavailable()
if (unavailable !== null) console.log(`tests/net/nat-invites.test.ts skipped: ${unavailable}`)

let mesh: LabMesh
let admin: LabPeer
let worker: LabPeer
let workerInvite: string

/** `ripple invite create` on the admin: the file's path. */
async function invite(role: string): Promise<string> {
  const path = join(mesh.root, `invite-${role}-${Math.random().toString(16).slice(2)}.json`)
  const res = await mesh.cli(admin, ['invite', 'create', '--role', role, '--out', path])
  expect(res.code, res.stderr).toBe(0)
  return path
}

/** Polls `ripple peers` on every peer given until `ok` holds for each. */
async function everyPeer(peers: LabPeer[], ok: (reply: PeersReply) => boolean): Promise<PeersReply[]> {
  for (const deadline = Date.now() + 90_000; ; ) {
    const replies = await Promise.all(
      peers.map(async (p) => {
        const res = await mesh.cli(p, ['peers', '--json'])
        return res.code === 0 ? (JSON.parse(res.stdout) as PeersReply) : { peers: [], warrants: [] }
      }),
    )
    if (replies.every(ok)) return replies
    if (Date.now() > deadline) throw new Error(`not reached: ${JSON.stringify(replies)}`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

describe.skipIf(unavailable !== null)(
  'a testnet mesh that requires invites, behind NATs',
  { timeout: 240_000 },
  () => {
    beforeAll(async () => {
      mesh = await LabMesh.start({ homes: 3, nat: 'random', requireInvite: true })
      admin = await mesh.startPeer(1, false)
      workerInvite = await invite('worker')
      worker = await mesh.startPeer(2, false, { args: ['--join-file', workerInvite] })
    }, 240_000)

    afterAll(() => mesh?.stop())

    it('the admin keeps the mesh it made; an invited worker joins it through the relay', async () => {
      expect(admin.process.stdout()).toMatch(/ripple: private mesh kept; this peer is its admin/)
      expect(worker.process.stdout()).toMatch(/ripple: private mesh joined/)
      const seen = await mesh.waitForPeer(admin, worker, (p) => relayedLink(p) && p.capability !== null)
      expect(seen.link?.via).toBe(mesh.relayId)
      await mesh.waitForPeer(worker, admin, (p) => relayedLink(p) && p.capability !== null)
    })

    it("a peer on the mesh's network without an invite is refused by every peer", async () => {
      // The network an invite carries holds no secret on a relayed network (no key): anyone may have it,
      // the relay's and the admin's addresses included. The grant that admits an agent is not in it.
      const leaked = join(mesh.root, 'leaked-network.json')
      const { network } = JSON.parse(await readFile(workerInvite, 'utf8')) as Invite
      await writeFile(leaked, JSON.stringify(network))
      const stranger = await mesh.startPeer(3, false, {
        name: 'stranger',
        args: ['--network', leaked],
      })
      expect(stranger.process.stdout()).not.toMatch(/private mesh/)
      const replies = await everyPeer([admin, worker], (r) =>
        r.warrants.some((w) => w.agent === stranger.agent && w.rule === 'membrane_proof.missing'),
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}\nstranger:\n${stranger.process.stdout()}\n${stranger.process.stderr().slice(-6000)}`,
        )
      })
      for (const reply of replies) {
        // Its heartbeats may be heard; its capability (an op) is stored nowhere.
        expect(reply.peers.find((p) => p.agent === stranger.agent)?.capability ?? null).toBeNull()
      }
    })

    it('a revoked member is dropped by every peer, and what it submits after is stored by nobody', async () => {
      const member = await mesh.startPeer(3, false, { args: ['--join-file', await invite('member')] })
      for (const peer of [admin, worker]) await mesh.waitForPeer(peer, member, (p) => p.capability !== null)

      const refused = await mesh.cli(worker, ['invite', 'revoke', member.agent])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/HTTP 403.*revocation\.author_is_admin/)
      const revoked = await mesh.cli(admin, ['invite', 'revoke', member.agent, '--reason', 'left the lab'])
      expect(revoked.code, revoked.stderr).toBe(0)
      expect(revoked.stdout).toMatch(new RegExp(`revoked agent ${member.agent}`))
      await everyPeer([admin, worker], (r) =>
        r.peers.some((p) => p.agent === member.agent && p.revoked === true && (p.link ?? null) === null),
      )

      const late = await mesh.cli(member, [
        ...['task', 'submit', 'echo', '--input', '{"message":"after"}', '--tag', 'home1'],
        ...['--timeout', '5s', '--wait'],
      ])
      expect(late.code).toBe(1)
      const submitted = /submitted (\S+)/.exec(late.stderr)?.[1]
      expect(submitted).toBeDefined()
      for (const peer of [admin, worker]) {
        const ls = await mesh.cli(peer, ['task', 'ls', '--json'])
        expect((JSON.parse(ls.stdout) as TaskSummary[]).map((t) => t.action_hash)).not.toContain(submitted)
      }
    })
  },
)
