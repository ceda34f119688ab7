/**
 * Joining over "the internet" built on this machine (tests/net/nat-lab.ts): a `ripple relay` in a
 * public namespace, and `ripple up` peers each in a home namespace behind its own NAT router (nftables
 * masquerade), which cannot reach each other directly. They join through the relay, replicate each
 * other's writes, run tasks for each other and stream tokens over relayed connections; a peer that
 * joins late catches up. Needs root, `ip` and `nft` (scripts/install.sh installs nftables); skipped,
 * with the reason, without them.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiPeer, PeersReply } from '../../host/api/contract/index.ts'
import type { TaskSummary, TaskView } from '../../host/scheduler/scheduler-service.ts'
import { printableText } from '../../host/text/printable.ts'
import { REPO_ROOT, type RunningRipple, runRipple, startRipple } from '../e2e/ripple-process.ts'
import { TINY_MODEL, writeLlamaModel } from '../fixtures/gguf-generator.ts'
import { createNatLab, homeIp, type NatLab, natLabUnavailable, PUBLIC_IP } from './nat-lab.ts'

const unavailable = await natLabUnavailable()
if (unavailable !== null) console.log(`tests/net/nat-relay.test.ts skipped: ${unavailable}`)

interface LabPeer {
  name: string
  netns: string
  dataDir: string
  agent: string
  process: RunningRipple
}

let lab: NatLab
let root: string
let networkFile: string
let relay: RunningRipple
let relayId: string
let bootstrap: string
const peers: LabPeer[] = []

const line = (text: string, re: RegExp) => re.exec(text)?.[1] ?? ''

async function startPeer(home: number, models: boolean): Promise<LabPeer> {
  const name = `home${home}`
  const dataDir = join(root, name)
  const modelsDir = join(root, `${name}-models`)
  await mkdir(modelsDir, { recursive: true })
  if (models) await writeLlamaModel(join(modelsDir, 'tiny.gguf'), TINY_MODEL)
  const netns = lab.ns[name]!
  const process = await startRipple(
    [
      ...['--network', networkFile, '--bootstrap', bootstrap, '--listen', '/ip4/0.0.0.0/tcp/0'],
      ...['--data-dir', dataDir, '--models-dir', modelsDir, '--api-port', '0', '--threads', '1'],
      ...['--name', name, '--tag', name, '--log-level', 'warn'],
    ],
    120_000,
    { netns },
  )
  const peer = { name, netns, dataDir, agent: line(process.stdout(), /^ripple: agent (\S+)$/m), process }
  peers[home - 1] = peer
  return peer
}

/** `ripple <args> --data-dir <peer's>` run inside the peer's namespace (its API is on its loopback). */
async function cli(peer: LabPeer, args: readonly string[]) {
  return runRipple([...args, '--data-dir', peer.dataDir], { netns: peer.netns, timeoutMs: 120_000 })
}

async function peersOf(peer: LabPeer): Promise<ApiPeer[]> {
  const res = await cli(peer, ['peers', '--json'])
  return res.code === 0 ? (JSON.parse(res.stdout) as PeersReply).peers : []
}

/** Polls `ripple peers` on `peer` until `other` is seen as `wanted` says. */
async function waitForPeer(peer: LabPeer, other: LabPeer, wanted: (p: ApiPeer) => boolean): Promise<ApiPeer> {
  for (const deadline = Date.now() + 90_000; ; ) {
    const seen = (await peersOf(peer)).find((p) => p.agent === other.agent)
    if (seen !== undefined && wanted(seen)) return seen
    if (Date.now() > deadline)
      throw new Error(`${peer.name} never saw ${other.name} as wanted: ${JSON.stringify(seen)}`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

const relayedLink = (p: ApiPeer) => p.status === 'online' && p.link?.path === 'relayed'

describe.skipIf(unavailable !== null)('peers behind NAT join through a relay', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    lab = await createNatLab({ homes: 3 })
    root = await mkdtemp(join(tmpdir(), 'ripple-nat-relay-'))
    const testnet = JSON.parse(await readFile(join(REPO_ROOT, 'networks', 'testnet.json'), 'utf8'))
    networkFile = join(root, 'natnet.json')
    // testnet as shipped (no mDNS, relay slots, no bootstrap of its own), with a seed of this run's.
    await writeFile(
      networkFile,
      JSON.stringify({
        ...testnet,
        name: 'natnet',
        seed: `natnet-${Date.now()}-${Math.random()}`,
        heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
      }),
    )
    relay = await startRipple(
      ['--network', networkFile, '--listen', `/ip4/${PUBLIC_IP}/tcp/4001`, '--data-dir', join(root, 'relay')],
      60_000,
      { netns: lab.ns.public, command: 'relay' },
    )
    relayId = line(relay.stdout(), /^ripple: relay (\S+),/m)
    bootstrap = line(relay.stdout(), /^ripple: listening (\S+)$/m)
    // home1 asks, home2 holds the model.
    await Promise.all([startPeer(1, false), startPeer(2, true)])
  }, 240_000)

  afterAll(async () => {
    for (const p of [...peers.map((peer) => peer.process), relay])
      if (p && p.child.exitCode === null) p.child.kill('SIGKILL')
    await lab?.destroy()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('the homes cannot reach each other directly, only the public side', async () => {
    const probe = (ip: string) =>
      `const s=require('net').connect(9,'${ip}');s.setTimeout(2000,()=>{console.log('timeout');process.exit(0)});` +
      `s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`
    const [home1, home2] = peers
    expect((await lab.exec(home1!.netns, process.execPath, ['-e', probe(homeIp(2))])).trim()).toBe(
      'ENETUNREACH',
    )
    // The relay's port answers; a closed port on the public side refuses (so the route works).
    expect((await lab.exec(home2!.netns, process.execPath, ['-e', probe(PUBLIC_IP)])).trim()).toBe(
      'ECONNREFUSED',
    )
  })

  it('each sees the other online with its capability, relayed via the relay', async () => {
    const [home1, home2] = peers
    const seen2 = await waitForPeer(home1!, home2!, (p) => relayedLink(p) && p.capability !== null)
    expect(seen2.name).toBe('home2')
    expect(seen2.link?.via).toBe(relayId)
    expect(seen2.capability?.inference.models.map((m) => m.name)).toEqual(['tiny'])
    const seen1 = await waitForPeer(home2!, home1!, (p) => relayedLink(p) && p.capability !== null)
    expect(seen1.link?.via).toBe(relayId)
    const text = await cli(home1!, ['peers'])
    expect(text.stdout).toMatch(new RegExp(`home2\\s+online\\s+relayed via …${relayId.slice(-8)}`))
  })

  it("they run tasks for each other, and each sees the other's signed result", async () => {
    const [home1, home2] = peers
    const onHome2 = await cli(home1!, [
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
    const onHome1 = await cli(home2!, [
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

  it("streams an answer token by token over the relayed connection, past libp2p's default 128 KiB", async () => {
    const [home1, home2] = peers
    const before = await waitForPeer(home1!, home2!, relayedLink)
    const res = await cli(home1!, [
      'infer',
      'tell a long story',
      '--model',
      'tiny',
      '--max-tokens',
      '3000',
      '--seed',
      '3',
      '--stream',
    ])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stderr).toMatch(new RegExp(`on ${home2!.agent.slice(0, 12)}`))
    const [latest] = JSON.parse((await cli(home1!, ['task', 'ls', '--json'])).stdout) as TaskSummary[]
    const view = JSON.parse(
      (await cli(home1!, ['task', 'show', latest!.action_hash, '--json'])).stdout,
    ) as TaskView
    const output = view.state.results[0]?.entry.output as {
      text: string
      timings: { generated_tokens: number }
    }
    expect(view.state.results).toHaveLength(1)
    expect(output.timings.generated_tokens).toBeGreaterThan(1000)
    // Every token arrived once, in order: the streamed text is the signed result's.
    expect(res.stdout).toBe(`${printableText(output.text)}\n`)
    const after = await waitForPeer(home1!, home2!, relayedLink)
    expect(after.link?.opened_at).toBe(before.link?.opened_at)
  })

  it('a peer that joins late, behind its own NAT, catches up on what happened before it', async () => {
    const home3 = await startPeer(3, false)
    const [home1] = peers
    const tasks = JSON.parse((await cli(home1!, ['task', 'ls', '--json'])).stdout) as TaskSummary[]
    for (const deadline = Date.now() + 90_000; ; ) {
      const views = await Promise.all(
        tasks.map(async (t) => {
          const res = await cli(home3, ['task', 'show', t.action_hash, '--json'])
          return res.code === 0 ? (JSON.parse(res.stdout) as TaskView) : null
        }),
      )
      if (views.every((v) => v?.state.status === 'done' && v.state.receipt !== null)) break
      if (Date.now() > deadline)
        throw new Error(`home3 did not catch up: ${JSON.stringify(views.map((v) => v?.state.status))}`)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    const seen1 = await waitForPeer(home3, home1!, relayedLink)
    expect(seen1.link?.via).toBe(relayId)
  })
})
