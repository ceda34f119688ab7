/**
 * A private mesh on the holochain backend, with a libp2p node beside each real conductor: the admin's
 * `ripple up` on a network file asking for invites makes the mesh; a runner joins with its invite,
 * witnessed by the admin over `admit/1.0.0` and put in its cells' genesis as the membrane proof, which
 * the real conductor's genesis check admits. Then the whole daemon runs on it: `/v1` answered by direct
 * inference over a member-only stream, its record read back, the shared memory written on one peer and
 * queried on the other, an artifact added on one got on the other through Helia on the libp2p node,
 * `ripple peers` and the dashboard's mesh page showing the other peer with its load. A stranger with
 * no invite is refused by its conductor at install; one with an expired invite by the admin that would
 * witness it. Last, the admin revokes the runner (`ripple invite revoke`): its connections are closed and
 * refused, the admin's `/v1` no longer goes to it, and what it advertises after is not read. Skipped, with the reason, where the tools or the hApp are missing.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply, ServedView, UsageView } from '../../host/api/contract/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import {
  type BootstrapServer,
  holochainSkipReason,
  startBootstrapServer,
} from '../fixtures/holochain-tools.ts'
import {
  eventually,
  isolatedNetwork,
  LOOPBACK_FLAGS,
  type NamedRipple,
  REPO_ROOT,
  RIPPLE_BIN,
  runRipple,
  startRipple,
} from './ripple-process.ts'

const skip = holochainSkipReason(['holochain', 'lair-keystore', 'kitsune2-bootstrap-srv']) !== null
const CHROMIUM = '/usr/bin/chromium'
/** A conductor compiles the hApp's wasm as it installs it: minutes on a busy two-core machine. */
const START_MS = 300_000
/**
 * The longest a request's record takes to be written on the asker: the runner's proof (90 s at most,
 * direct-inference.ts), its batch's arrival (30 s, served-records.ts) and the window's signing.
 */
const RECORD_WRITTEN_MS = 150_000

let root: string
let bootstrap: BootstrapServer | undefined
let admin: NamedRipple
let runner: NamedRipple
let browser: Browser | undefined

interface Api {
  url: string
  token: string
}
const apiOf = async (peer: NamedRipple): Promise<Api> => ({
  url: /^ripple: api (\S+)$/m.exec(peer.stdout())?.[1] ?? '',
  token: (await readFile(join(peer.dataDir, 'api-token'), 'utf8')).trim(),
})
const post = async (api: Api, path: string, body: unknown) =>
  fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

async function start(name: string, network: string, flags: string[] = []): Promise<NamedRipple> {
  const dataDir = join(root, name)
  const models = join(root, `${name}-models`)
  await mkdir(models, { recursive: true })
  const daemon = await startRipple(
    [
      ...['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0'],
      ...['--name', name, '--threads', '1', '--log-level', 'warn', ...flags],
    ],
    START_MS,
  )
  return { ...daemon, dataDir, agent: /^ripple: agent (\S+)$/m.exec(daemon.stdout())?.[1] ?? '' }
}

async function invite(expires: string): Promise<string> {
  const path = join(root, `invite-${expires}.json`)
  const res = await runRipple([
    'invite',
    'create',
    '--data-dir',
    admin.dataDir,
    '--out',
    path,
    '--expires',
    expires,
  ])
  expect(res.code, res.stderr).toBe(0)
  return path
}

/** A `ripple up` expected to stop at start: its exit code and what it said. */
const refusedUp = (name: string, flags: string[]) =>
  runRipple(['up', ...LOOPBACK_FLAGS, '--data-dir', join(root, name), '--api-port', '0', ...flags], {
    timeoutMs: START_MS,
  })

beforeAll(
  async () => {
    if (skip) return
    root = await mkdtemp(join(tmpdir(), 'ripple-e2e-holochain-private-'))
    bootstrap = await startBootstrapServer()
    // The network file asks for invites: the admin's first `ripple up` makes a private mesh of it (its
    // agent the progenitor of every DNA, `membrane: "invite"`) with a libp2p section (local.json's).
    const network = await isolatedNetwork(root, 'e2e-holochain-private', {
      backend: 'holochain',
      holochain: { bootstrap_url: bootstrap.bootstrapUrl, signal_url: bootstrap.signalUrl },
      require_invite: true,
    })
    admin = await start('admin', network)
    await mkdir(join(root, 'runner-models'), { recursive: true })
    await writeLlamaModel(join(root, 'runner-models', 'tiny.gguf'), TINY_MODEL)
    runner = await start('runner', network, ['--join-file', await invite('1h')])
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  },
  2 * START_MS + 30_000,
)

afterAll(async () => {
  await browser?.close()
  // SIGTERM: a daemon stops its conductor and lair as it stops (killed outright, they outlive it).
  await Promise.all(
    [admin, runner].map(async (d) => {
      if (!d || d.child.exitCode !== null) return
      d.child.kill('SIGTERM')
      const stopped = await Promise.race([d.exited.then(() => true), sleep(30_000).then(() => false)])
      if (!stopped) d.child.kill('SIGKILL')
    }),
  )
  bootstrap?.stop()
  if (root) await rm(root, { recursive: true, force: true })
}, 90_000)

describe.skipIf(skip)(
  'a private mesh on the holochain backend, libp2p beside the conductors',
  { timeout: START_MS },
  () => {
    it('admits the invited runner (its witnessed invite is its genesis membrane proof) and both see each other', async () => {
      expect(admin.stdout()).toMatch(/^ripple: network e2e-holochain-private \(holochain\)/m)
      // The invited peer joined by invite: the admin witnessed it over admit/1.0.0.
      const kept = JSON.parse(await readFile(join(runner.dataDir, 'admission.json'), 'utf8'))
      expect(kept.statement).toMatchObject({ agent: runner.agent, witness: admin.agent })
      await eventually(async () => {
        const res = await runRipple(['peers', '--data-dir', admin.dataDir, '--json'])
        const { peers } = JSON.parse(res.stdout || '{"peers":[]}') as PeersReply
        const seen = peers.find((p) => p.agent === runner.agent)
        expect(seen?.capability?.inference.models.map((m) => m.name)).toContain('tiny')
        expect(seen?.status).not.toBe('offline')
        // Its load, from its heartbeats, and a direct link over the libp2p nodes.
        expect(seen?.load).toBeTruthy()
        expect(seen?.link).toBeTruthy()
      }, 240_000)
      const text = await runRipple(['peers', '--data-dir', admin.dataDir])
      expect(text.code, text.stderr).toBe(0)
      expect(text.stdout).toContain('runner')
    })

    it("the admin's /v1 is answered by direct inference on the runner, and the record shows it", async () => {
      const api = await apiOf(admin)
      const res = await post(api, '/v1/chat/completions', {
        model: 'tiny',
        messages: [{ role: 'user', content: 'A question asked on one peer' }],
        max_tokens: 8,
        seed: 7,
      })
      expect(res.status, await res.clone().text()).toBe(200)
      expect(res.headers.get('x-ripple-peer')).toBe(runner.agent)
      const request = res.headers.get('x-ripple-task') ?? ''
      const body = (await res.json()) as { choices: { message: { content: string } }[] }
      expect(body.choices[0]?.message.content.length).toBeGreaterThan(0)
      // The direct route's record: the admin's Served leaf naming the runner, written on its conductor.
      // The route answers once the record is written or given up (each of its waits has a deadline),
      // so a 404 or a leaf not accepted is final: said at once, with the daemon's warnings (why a
      // record could not be written is said there), not polled for two minutes.
      const servedView = async () => {
        const served = await fetch(`${api.url}/api/served/${request}`, {
          headers: { authorization: `Bearer ${api.token}` },
          signal: AbortSignal.timeout(RECORD_WRITTEN_MS),
        }).catch((err: Error) => {
          throw new Error(`GET /api/served waited ${RECORD_WRITTEN_MS} ms for the record: ${err.message}`)
        })
        const why = `${await served.clone().text()}\n${admin.stderr().slice(-2000)}`
        expect(served.status, why).toBe(200)
        const view = (await served.json()) as ServedView
        expect(view.served?.leaf, why).toMatchObject({ request, runner: runner.agent })
        // Proven: the leaf's proof checked against the runner's batch before it was signed.
        expect(view.served?.leaf, why).toMatchObject({ accepted: true, reason: '' })
        return view
      }
      await servedView()
      // What may still be on its way: the runner's batch, read from the asker's conductor.
      await eventually(async () => {
        const view = await servedView()
        expect(view.checks.served?.valid, view.checks.served?.reason).toBe(true)
        expect(view.served?.runner_batch?.author).toBe(runner.agent)
      }, 60_000)
      // What the runner signed about the admin, asked of it over a direct stream (usage/1.0.0).
      await eventually(async () => {
        const usage = await runRipple(['usage', '--mesh', '--json', '--data-dir', admin.dataDir])
        expect(usage.code, usage.stderr).toBe(0)
        const { mesh } = JSON.parse(usage.stdout) as UsageView
        const ranForMe = mesh?.peers.find((p) => p.agent === runner.agent)?.as_runner.requests ?? 0
        expect(ranForMe).toBeGreaterThanOrEqual(1)
      }, 60_000)
    })

    it('the shared memory is written on one peer and queried on the other', async () => {
      const memory = (peer: NamedRipple, ...args: string[]) =>
        runRipple(['memory', ...args, '--data-dir', peer.dataDir], { timeoutMs: 120_000 })
      const created = await memory(admin, 'create', 'notes', '--dimension', '4', '--shards', '2')
      expect(created.code, created.stderr).toBe(0)
      const file = join(root, 'notes.jsonl')
      const vectors = [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
      ]
      await writeFile(
        file,
        `${vectors.map((v, i) => JSON.stringify({ id: `n${i}`, vector: v })).join('\n')}\n`,
      )
      await eventually(async () => {
        const upserted = await memory(admin, 'upsert', 'notes', '--file', file)
        expect(upserted.code, upserted.stderr).toBe(0)
      }, 120_000)
      await eventually(async () => {
        const res = await memory(runner, 'query', 'notes', '--vector', '[0,1,0,0]', '-k', '1', '--json')
        expect(res.code, res.stderr).toBe(0)
        const answer = JSON.parse(res.stdout) as { hits: { id: string }[]; shards_missing: unknown[] }
        expect(answer.shards_missing).toEqual([])
        expect(answer.hits[0]?.id).toBe('n1')
      }, 120_000)
    })

    it('an artifact added on one (Helia on the libp2p node, no Kubo) is got with the same bytes on the other', async () => {
      const file = join(root, 'input.bin')
      const bytes = randomBytes(300 * 1024 + 7)
      await writeFile(file, bytes)
      const added = await runRipple(['artifact', 'add', file, '--data-dir', admin.dataDir])
      expect(added.code, added.stderr).toBe(0)
      const cid = added.stdout.trim()
      const out = join(root, 'output.bin')
      await eventually(async () => {
        const got = await runRipple(['artifact', 'get', cid, '-o', out, '--data-dir', runner.dataDir], {
          timeoutMs: 60_000,
        })
        expect(got.code, got.stderr).toBe(0)
        expect(got.stderr).toContain('sha256 verified')
      }, 120_000)
      expect((await readFile(out)).equals(bytes)).toBe(true)
    })

    it("the dashboard's mesh page shows the other peer", async () => {
      await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts', 'build-ui.sh')], { cwd: REPO_ROOT })
      const loginUrl = /^ripple: open (\S+)/m.exec(admin.stdout())?.[1] ?? ''
      const page = await browser!.newPage()
      await page.goto(loginUrl)
      await page.locator('nav').waitFor()
      await page.goto(`${new URL(loginUrl).origin}/#/mesh`)
      const card = page.locator(`section.peer[data-agent="${runner.agent}"]`)
      await card.waitFor({ timeout: 60_000 })
      expect(await card.locator('h3').textContent()).toContain('runner')
      await page.close()
    })

    it('a stranger with no invite is refused by its conductor at install, with the rule', async () => {
      // The mesh's own file, as the admin keeps it: the same DNAs, but no invite to put in the genesis.
      const mesh = join(root, 'mesh.json')
      await copyFile(join(admin.dataDir, 'network.json'), mesh)
      const res = await refusedUp('stranger', ['--network', mesh])
      expect(res.code).not.toBe(0)
      expect(res.stderr).toMatch(/membrane_proof\.missing: this network admits only agents with an invite/)
    })

    it('a joiner with an expired invite is refused by the admin that would witness it, by its clock', async () => {
      const expired = await invite('1s')
      await sleep(2_000)
      // Its own check refuses an invite expired by its own clock, at once ...
      const own = await refusedUp('late', ['--join-file', expired])
      expect(own.code).not.toBe(0)
      expect(own.stderr).toMatch(/^ripple: invite \S+ expired at /m)
      // ... and a joiner whose clock is a minute behind (libfaketime) asks the admin, which refuses it.
      const up = [RIPPLE_BIN, 'up', ...LOOPBACK_FLAGS, '--data-dir', join(root, 'behind'), '--api-port', '0']
      const behind = await promisify(execFile)(
        'faketime',
        ['-f', '-60s', process.execPath, ...up, '--join-file', expired],
        { cwd: REPO_ROOT, env: { ...process.env, FAKETIME_DONT_FAKE_MONOTONIC: '1' }, timeout: 60_000 },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code?: number; stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }),
      )
      expect(behind.code).not.toBe(0)
      expect(behind.stderr).toMatch(
        new RegExp(`the mesh refused this invite: member ${admin.agent} says .*expired`),
      )
    })

    // Last: it takes the runner out of the mesh.
    it('the admin revokes the runner: its connection is closed and refused, /v1 no longer goes to it, its later capability is not read', async () => {
      type Peer = PeersReply['peers'][number]
      const peersOf = async (peer: NamedRipple) => {
        const res = await runRipple(['peers', '--data-dir', peer.dataDir, '--json'])
        expect(res.code, res.stderr).toBe(0)
        return (JSON.parse(res.stdout) as PeersReply).peers
      }
      const seenOn = async (peer: NamedRipple, who: NamedRipple) =>
        (await peersOf(peer)).find((p) => p.agent === who.agent)
      const tinyLoaded = (p: Peer | undefined) =>
        p?.capability?.inference.models.find((m) => m.name === 'tiny')?.loaded
      // The admin has read the runner's latest capability, written before the revocation.
      const before = tinyLoaded(await seenOn(runner, runner))
      await eventually(async () => expect(tinyLoaded(await seenOn(admin, runner))).toBe(before), 60_000)
      const membersBefore = JSON.parse(
        (await runRipple(['peers', '--data-dir', admin.dataDir, '--json'])).stdout,
      ) as PeersReply

      const revoked = await runRipple([
        ...['invite', 'revoke', runner.agent, '--reason', 'left the lab', '--data-dir', admin.dataDir],
      ])
      expect(revoked.code, revoked.stderr).toBe(0)
      expect(revoked.stdout).toMatch(new RegExp(`revoked agent ${runner.agent}`))
      // After it, the runner advertises again (its model loaded or unloaded): an op the admin must not read.
      const toggled = await runRipple([
        'models',
        before ? 'unload' : 'load',
        'tiny',
        '--data-dir',
        runner.dataDir,
      ])
      expect(toggled.code, toggled.stderr).toBe(0)

      // The admin shows it revoked, no longer a member, with no link; the runner has none to the admin.
      await eventually(async () => {
        const seen = await seenOn(admin, runner)
        expect(seen?.revoked).toBe(true)
        expect(seen?.link ?? null).toBeNull()
        expect((await seenOn(runner, admin))?.link ?? null).toBeNull()
        // The runner's conductor has the revocation too: its status says why the mesh refuses it.
        const status = await runRipple(['status', '--json', '--data-dir', runner.dataDir])
        expect(JSON.parse(status.stdout || '{}').standing).toBe('an admin of the mesh revoked this peer')
      }, 60_000)
      const text = await runRipple(['peers', '--data-dir', admin.dataDir, '--json'])
      expect((JSON.parse(text.stdout) as PeersReply).members).toBe((membersBefore.members ?? 0) - 1)
      expect((await runRipple(['peers', '--data-dir', admin.dataDir])).stdout).toMatch(/\(revoked\)/)

      // The admin's /v1 no longer goes to it: no other peer has the model.
      const res = await post(await apiOf(admin), '/v1/chat/completions', {
        model: 'tiny',
        messages: [{ role: 'user', content: 'A question after the revocation' }],
        max_tokens: 8,
      })
      const answer = await res.text()
      expect(res.headers.get('x-ripple-peer')).not.toBe(runner.agent)
      expect(res.status, answer).toBe(503)
      expect(answer).toContain('no_capacity')

      // Its later capability reached its own view, not the admin's; the connection stays refused.
      expect(tinyLoaded(await seenOn(runner, runner))).toBe(!before)
      const seen = await seenOn(admin, runner)
      expect(tinyLoaded(seen)).toBe(before)
      expect(seen?.link ?? null).toBeNull()
      expect((await seenOn(runner, admin))?.link ?? null).toBeNull()
    })
  },
)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
