/**
 * Two `ripple up` on the holochain backend, each starting its own lair-keystore and Holochain 0.6.0
 * conductor with workdir/ripple.happ, on a network of their own found through a local kitsune2
 * bootstrap/signal server: they see each other, the asker's `/v1` answers with the runner's model and
 * both read the request's records, a policy the admin publishes is listed on the other (and the other's
 * refused), an artifact added on one is got whole on the other, and the shared memory is refused.
 * Skipped, with the reason, where the tools or the hApp are missing.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArtifactView, PeersReply, TaskSummary, TaskView } from '../../host/api/contract/index.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import {
  type BootstrapServer,
  holochainSkipReason,
  startBootstrapServer,
} from '../fixtures/holochain-tools.ts'
import { type KuboStandIn, startKuboStandIn } from '../fixtures/kubo-rpc-stand-in.ts'
import { eventually, isolatedNetwork, type NamedRipple, runRipple, startRipple } from './ripple-process.ts'

const skip = holochainSkipReason(['holochain', 'lair-keystore', 'kitsune2-bootstrap-srv']) !== null

let root: string
let bootstrap: BootstrapServer | undefined
let kubo: KuboStandIn | undefined
let asker: NamedRipple
let runner: NamedRipple
let progenitor: string

beforeAll(async () => {
  if (skip) return
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-holochain-mesh-'))
  bootstrap = await startBootstrapServer()
  // Helia runs on the embedded backend's libp2p node, which this backend has not: artifacts take Kubo.
  // Both peers use one Kubo (a stand-in: Kubo cannot run here); moving blocks between Kubo nodes is
  // Kubo's own work, the artifact's records are the conductors'.
  kubo = await startKuboStandIn()
  // The asker is the mesh's admin (its progenitor): its conductor's cells are its Ripple agent's.
  const admin = await openAgentKey(join(root, 'asker'))
  progenitor = encodeHashB64(admin.agentPubKey)
  const network = await isolatedNetwork(root, 'e2e-holochain-mesh', {
    dna_properties: { policy_store: { progenitor } },
    backend: 'holochain',
    holochain: { bootstrap_url: bootstrap.bootstrapUrl, signal_url: bootstrap.signalUrl },
    // No libp2p section: the daemon runs on the conductor alone (holochain-private-mesh.test.ts runs
    // a libp2p node beside it).
    libp2p: undefined,
  })
  await mkdir(join(root, 'runner-models'), { recursive: true })
  await writeLlamaModel(join(root, 'runner-models', 'tiny.gguf'), TINY_MODEL)
  const start = async (name: string): Promise<NamedRipple> => {
    const dataDir = join(root, name)
    await mkdir(join(root, `${name}-models`), { recursive: true })
    const daemon = await startRipple(
      [
        ...['--network', network, '--data-dir', dataDir, '--models-dir', join(root, `${name}-models`)],
        ...['--api-port', '0', '--ipfs', `kubo:${kubo!.url}`, '--name', name, '--threads', '1'],
        ...['--log-level', 'warn'],
      ],
      // A conductor compiles the hApp's wasm as it installs it: minutes on a busy two-core machine.
      300_000,
    )
    return { ...daemon, dataDir, agent: /^ripple: agent (\S+)$/m.exec(daemon.stdout())?.[1] ?? '' }
  }
  ;[asker, runner] = await Promise.all([start('asker'), start('runner')])
}, 330_000)

afterAll(async () => {
  // SIGTERM: a daemon stops its conductor and lair as it stops (killed outright, they outlive it).
  await Promise.all(
    [asker, runner].map(async (d) => {
      if (!d || d.child.exitCode !== null) return
      d.child.kill('SIGTERM')
      const stopped = await Promise.race([d.exited.then(() => true), sleep(30_000).then(() => false)])
      if (!stopped) d.child.kill('SIGKILL')
    }),
  )
  bootstrap?.stop()
  await kubo?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

describe.skipIf(skip)('two ripple up on the holochain backend', { timeout: 300_000 }, () => {
  it('run on real conductors and see each other, with the runner model', async () => {
    expect(asker.stdout()).toMatch(/^ripple: network e2e-holochain-mesh \(holochain\)/m)
    // Gossip between real conductors takes seconds to minutes.
    await eventually(async () => {
      const res = await runRipple(['peers', '--data-dir', asker.dataDir, '--json'])
      const { peers } = JSON.parse(res.stdout || '{"peers":[]}') as PeersReply
      const seen = peers.find((p) => p.agent === runner.agent)
      expect(seen?.capability?.inference.models.map((m) => m.name)).toContain('tiny')
      // Heard up, not only on record: the router passes over a peer no heartbeat has reached.
      expect(seen?.status).not.toBe('offline')
    }, 240_000)
  })

  it("the asker's /v1 answers with the runner's model", async () => {
    const url = /^ripple: api (\S+)$/m.exec(asker.stdout())?.[1] ?? ''
    const token = (await readFile(join(asker.dataDir, 'api-token'), 'utf8')).trim()
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tiny',
        messages: [{ role: 'user', content: 'A question asked on one peer' }],
        max_tokens: 8,
        seed: 7,
      }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    const body = (await res.json()) as { choices: { message: { content: string } }[] }
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0)
  })

  it("the request's records, signed on the runner's and the asker's conductors, are read on both", async () => {
    const ls = await runRipple(['task', 'ls', '--json', '--data-dir', asker.dataDir])
    expect(ls.code, ls.stderr).toBe(0)
    const task = (JSON.parse(ls.stdout) as TaskSummary[]).find((t) => t.kind === 'infer.generate')
    expect(task?.status).toBe('done')
    // The asker reads the runner's Result from the DHT beside its own Receipt ...
    const show = await runRipple(['task', 'show', task!.action_hash, '--json', '--data-dir', asker.dataDir])
    expect(show.code, show.stderr).toBe(0)
    const check = (state: TaskView['state'] | null) => {
      expect(state?.results.map((r) => [r.author, r.entry.status])).toEqual([[runner.agent, 'ok']])
      expect(state?.receipt?.author).toBe(asker.agent)
      expect(state?.receipt?.entry.accepted).toBe(true)
    }
    check((JSON.parse(show.stdout) as TaskView).state)
    // ... and the runner's conductor answers the asker's Receipt. (Asked of the zome: the runner's
    // scheduler re-reads only the tasks still open, so its `task show` may keep what it read before.)
    const url = /^ripple: api (\S+)$/m.exec(runner.stdout())?.[1] ?? ''
    const token = (await readFile(join(runner.dataDir, 'api-token'), 'utf8')).trim()
    await eventually(async () => {
      const res = await fetch(`${url}/api/zome/resource_mesh/get_task_state`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(task!.action_hash),
      })
      expect(res.status, await res.clone().text()).toBe(200)
      check((await res.json()) as TaskView['state'])
    }, 60_000)
    // `ripple usage` totals the direct route's signed leaves; here a request takes the task round
    // (above). What other peers signed about this member needs the direct streams this backend lacks.
    const mesh = await runRipple(['usage', '--mesh', '--data-dir', asker.dataDir])
    expect(mesh.code).toBe(1)
    expect(mesh.stderr).toMatch(/UnavailableError \(HTTP 503\): this backend reaches no peer directly/)
  })

  it('a policy published by the admin is listed on the other peer; one by another peer is refused', async () => {
    // The cells run under the Ripple agent's key (imported into lair), so the network could name it.
    expect(asker.agent).toBe(progenitor)
    const publish = (peer: NamedRipple, id: string) =>
      runRipple([
        ...['policy', 'publish', id, '--text', 'permit(principal, action, resource);'],
        ...['--data-dir', peer.dataDir],
      ])
    const published = await publish(asker, 'allow-all')
    expect(published.code, published.stderr).toBe(0)
    expect(published.stdout).toMatch(/^published allow-all/)
    await eventually(async () => {
      const ls = await runRipple(['policy', 'ls', '--data-dir', runner.dataDir])
      expect(ls.stdout).toMatch(/allow-all/)
    }, 60_000)
    // The real conductor's policy_store integrity zome judges it, with the rule's id and words.
    const refused = await publish(runner, 'mine')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/InvalidEntryError \(HTTP 403\): policy\.author_is_admin: /)
  })

  it('an artifact added on one (through Kubo) is listed and got with the same bytes on the other', async () => {
    const file = join(root, 'input.bin')
    const bytes = randomBytes(600 * 1024 + 17)
    await writeFile(file, bytes)
    const added = await runRipple(['artifact', 'add', file, '--data-dir', asker.dataDir])
    expect(added.code, added.stderr).toBe(0)
    const cid = added.stdout.trim()
    // The artifact_index record, written on the asker's conductor, reaches the runner's by gossip.
    await eventually(async () => {
      const show = await runRipple(['artifact', 'show', cid, '--json', '--data-dir', runner.dataDir])
      expect(show.code, show.stderr).toBe(0)
      const view = JSON.parse(show.stdout) as ArtifactView
      expect(view.holders.map((h) => h.author)).toContain(asker.agent)
    }, 60_000)
    const out = join(root, 'output.bin')
    const got = await runRipple(['artifact', 'get', cid, '-o', out, '--data-dir', runner.dataDir])
    expect(got.code, got.stderr).toBe(0)
    expect(got.stderr).toContain('sha256 verified')
    expect((await readFile(out)).equals(bytes)).toBe(true)
  })

  it('the shared memory, which needs direct streams to peers, is refused at once', async () => {
    const res = await runRipple([
      'memory',
      'create',
      'notes',
      '--dimension',
      '4',
      '--data-dir',
      asker.dataDir,
    ])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/memory/)
  })
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
