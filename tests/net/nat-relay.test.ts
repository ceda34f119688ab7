/**
 * Joining over "the internet" built on this machine (tests/net/nat-lab.ts): a `ripple relay` in a
 * public namespace, and `ripple up` peers each in a home namespace behind its own NAT router (nftables
 * masquerade), which cannot reach each other directly. They join through the relay, replicate each
 * other's writes, run tasks for each other and stream tokens over relayed connections; a peer that
 * joins late catches up; a peer restarted with the same key is one peer, and catches up too. Needs root, `ip` and `nft` (scripts/install.sh installs nftables); skipped,
 * with the reason, without them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TaskSummary, TaskView } from '../../host/scheduler/scheduler-service.ts'
import { printableText } from '../../host/text/printable.ts'
import { LabMesh, LONG_STREAMED_ANSWER, relayedLink } from './lab-mesh.ts'
import { homeIp, natLabUnavailable, PUBLIC_IP } from './nat-lab.ts'

const unavailable = await natLabUnavailable()
if (unavailable !== null) console.log(`tests/net/nat-relay.test.ts skipped: ${unavailable}`)

let mesh: LabMesh

describe.skipIf(unavailable !== null)('peers behind NAT join through a relay', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    mesh = await LabMesh.start({ homes: 3, nat: 'random' })
    // home1 asks, home2 holds the model.
    await Promise.all([mesh.startPeer(1, false), mesh.startPeer(2, true)])
  }, 240_000)

  afterAll(() => mesh?.stop())

  it('the homes cannot reach each other directly, only the public side', async () => {
    const probe = (ip: string) =>
      `const s=require('net').connect(9,'${ip}');s.setTimeout(2000,()=>{console.log('timeout');process.exit(0)});` +
      `s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`
    const [home1, home2] = mesh.peers
    expect((await mesh.lab.exec(home1!.netns, process.execPath, ['-e', probe(homeIp(2))])).trim()).toBe(
      'ENETUNREACH',
    )
    // The relay's port answers; a closed port on the public side refuses (so the route works).
    expect((await mesh.lab.exec(home2!.netns, process.execPath, ['-e', probe(PUBLIC_IP)])).trim()).toBe(
      'ECONNREFUSED',
    )
  })

  it('each sees the other online with its capability, relayed via the relay', async () => {
    const [home1, home2] = mesh.peers
    const seen2 = await mesh.waitForPeer(home1!, home2!, (p) => relayedLink(p) && p.capability !== null)
    expect(seen2.name).toBe('home2')
    expect(seen2.link?.via).toBe(mesh.relayId)
    expect(seen2.capability?.inference.models.map((m) => m.name)).toEqual(['tiny'])
    const seen1 = await mesh.waitForPeer(home2!, home1!, (p) => relayedLink(p) && p.capability !== null)
    expect(seen1.link?.via).toBe(mesh.relayId)
    const text = await mesh.cli(home1!, ['peers'])
    expect(text.stdout).toMatch(new RegExp(`home2\\s+online\\s+relayed via …${mesh.relayId.slice(-8)}`))
  })

  it("they run tasks for each other, and each sees the other's signed result", async () => {
    const [home1, home2] = mesh.peers
    const onHome2 = await mesh.cli(home1!, [
      'task',
      'submit',
      'echo',
      '--input',
      '{"message":"from home1"}',
      '--tag',
      'home2',
      '--wait',
    ])
    expect(onHome2.code, onHome2.stderr).toBe(0)
    expect(JSON.parse(onHome2.stdout)).toEqual({ message: 'from home1' })
    expect(onHome2.stderr).toMatch(new RegExp(`attempt 1 on ${home2!.agent.slice(0, 12)}`))
    const onHome1 = await mesh.cli(home2!, [
      'task',
      'submit',
      'sha256',
      '--input',
      '{"data":"from home2"}',
      '--tag',
      'home1',
      '--wait',
    ])
    expect(onHome1.code, onHome1.stderr).toBe(0)
    expect(JSON.parse(onHome1.stdout)).toMatchObject({ bytes: 10 })
    expect(onHome1.stderr).toMatch(new RegExp(`attempt 1 on ${home1!.agent.slice(0, 12)}`))
  })

  it('streams an answer as it is generated over the relayed connection, which stays up', async () => {
    const [home1, home2] = mesh.peers
    const before = await mesh.waitForPeer(home1!, home2!, relayedLink)
    const res = await mesh.cli(home1!, LONG_STREAMED_ANSWER)
    expect(res.code, res.stderr).toBe(0)
    expect(res.stderr).toMatch(new RegExp(`on ${home2!.agent.slice(0, 12)}`))
    const [latest] = JSON.parse((await mesh.cli(home1!, ['task', 'ls', '--json'])).stdout) as TaskSummary[]
    const view = JSON.parse(
      (await mesh.cli(home1!, ['task', 'show', latest!.action_hash, '--json'])).stdout,
    ) as TaskView
    const output = view.payloads.outputs[view.state.results[0]!.action_hash] as {
      text: string
      timings: { generated_tokens: number }
    }
    expect(view.state.results).toHaveLength(1)
    expect(output.timings.generated_tokens).toBeGreaterThan(1000)
    // Every token arrived once, in order: the streamed text is the signed result's.
    expect(res.stdout).toBe(`${printableText(output.text)}\n`)
    const after = await mesh.waitForPeer(home1!, home2!, relayedLink)
    expect(after.link?.opened_at).toBe(before.link?.opened_at)
    // They did try to go direct (ICE checks over UDP from router to router), which a NAT that
    // picks a new port per destination defeats: the relayed connection carried it all.
    expect((await mesh.lab.udpToPeers(1)) + (await mesh.lab.udpToPeers(2))).toBeGreaterThan(0)
  })

  it('a peer that joins late, behind its own NAT, catches up on what happened before it', async () => {
    const home3 = await mesh.startPeer(3, false)
    const [home1] = mesh.peers
    const tasks = JSON.parse((await mesh.cli(home1!, ['task', 'ls', '--json'])).stdout) as TaskSummary[]
    for (const deadline = Date.now() + 90_000; ; ) {
      const views = await Promise.all(
        tasks.map(async (t) => {
          const res = await mesh.cli(home3, ['task', 'show', t.action_hash, '--json'])
          return res.code === 0 ? (JSON.parse(res.stdout) as TaskView) : null
        }),
      )
      if (views.every((v) => v?.state.status === 'done' && v.state.receipt !== null)) break
      if (Date.now() > deadline)
        throw new Error(`home3 did not catch up: ${JSON.stringify(views.map((v) => v?.state.status))}`)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    const seen1 = await mesh.waitForPeer(home3, home1!, relayedLink)
    expect(seen1.link?.via).toBe(mesh.relayId)
  })

  it('a peer behind NAT restarted with the same key is one peer, not two, and catches up', async () => {
    const [home1, home2, home3] = mesh.peers
    home2!.process.child.kill('SIGTERM')
    await home2!.process.exited
    // Written while home2 is down: a task home3 runs for home1.
    const res = await mesh.cli(home1!, [
      ...['task', 'submit', 'echo', '--input', '{"message":"while home2 was down"}'],
      ...['--tag', 'home3', '--wait', '--json'],
    ])
    expect(res.code, res.stderr).toBe(0)
    const missed = (JSON.parse(res.stdout) as TaskView).state.task.action_hash
    const again = await mesh.startPeer(2, true)
    expect(again.agent).toBe(home2!.agent)
    for (const other of [home1!, home3!]) {
      await mesh.waitForPeer(other, again, (p) => relayedLink(p) && p.capability !== null)
      const seen = await mesh.peersOf(other)
      expect(seen.filter((p) => p.agent === again.agent || p.name === 'home2')).toHaveLength(1)
    }
    for (const deadline = Date.now() + 90_000; ; ) {
      const shown = await mesh.cli(again, ['task', 'show', missed, '--json'])
      const view = shown.code === 0 ? (JSON.parse(shown.stdout) as TaskView) : null
      if (view?.state.status === 'done' && view.state.receipt !== null) break
      if (Date.now() > deadline) throw new Error(`home2 did not catch up: ${shown.stdout}${shown.stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  })
})
