/**
 * Two `ripple up` on the holochain backend, each starting its own lair-keystore and Holochain 0.6.0
 * conductor with workdir/ripple.happ, on a network of their own found through a local kitsune2
 * bootstrap/signal server: they see each other, and the asker's `/v1` answers with the runner's model.
 * Skipped, with the reason, where the tools or the hApp are missing.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import {
  type BootstrapServer,
  holochainSkipReason,
  startBootstrapServer,
} from '../fixtures/holochain-tools.ts'
import { eventually, type NamedRipple, runRipple, startAskerAndRunner } from './ripple-process.ts'

const skip = holochainSkipReason(['holochain', 'lair-keystore', 'kitsune2-bootstrap-srv']) !== null

let root: string
let bootstrap: BootstrapServer | undefined
let asker: NamedRipple
let runner: NamedRipple

beforeAll(async () => {
  if (skip) return
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-holochain-mesh-'))
  bootstrap = await startBootstrapServer()
  // A conductor compiles the hApp's wasm as it installs it: minutes on a busy two-core machine.
  ;[asker, runner] = await startAskerAndRunner(
    root,
    'e2e-holochain-mesh',
    {
      backend: 'holochain',
      holochain: { bootstrap_url: bootstrap.bootstrapUrl, signal_url: bootstrap.signalUrl },
    },
    300_000,
  )
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
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
