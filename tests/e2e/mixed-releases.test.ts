/**
 * Two releases of Ripple in one mesh (issue 44): the previous release, built from its git tag by
 * tests/fixtures/previous-release.ts, and today's tree, as `ripple up` processes on loopback on the
 * default private `local` mesh, each holding a generated model the other lacks.
 * - Today's release joins a mesh whose admin runs the previous one (with the old admin's invite): each
 *   lists the other online with its model (today's also with its release, in its list, its log and its
 *   dashboard, which names the gap and who should upgrade),
 *   serves the other's model through /v1 and runs the other's round task.
 * - An admin upgraded in place (stopped, today's release started on the same data dir) keeps its agent
 *   key, its chain (every action it had, at the same place, in the same DNAs), its models and its pinned
 *   artifact, and records the dir as migrated; its invite admits a machine on the previous release, and
 *   it and a member still on the previous release serve each other's model.
 * Each command runs with the CLI of the release whose daemon it talks to, as a person on that machine would.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import OpenAI from 'openai'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArtifactView, PeersReply, ServedView } from '../../host/api/contract/index.ts'
import { DATA_DIR_RECORD, type DataDirRecord } from '../../host/daemon/data-dir-format.ts'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { PROTOCOLS, RELEASE } from '../../host/interface/release.ts'
import type { TaskView } from '../../host/scheduler/scheduler-service.ts'
import { type BuiltRelease, previousRelease } from '../fixtures/previous-release.ts'
import { eventually, REPO_ROOT, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

type Release = 'previous' | 'today'

interface Peer extends RunningRipple {
  name: string
  release: Release
  dataDir: string
  agent: string
  /** The model only this peer holds. */
  model: string
  openai: OpenAI
}

let root: string
let previous: BuiltRelease
const running: RunningRipple[] = []
/** Each peer's model is generated from its own seed: no two files are the same model. */
let seed = 1

const rootOf = (release: Release) => (release === 'previous' ? previous.root : REPO_ROOT)

/** Writes the model only `name` holds into its models dir (once: an upgraded peer keeps its dir). */
async function placeModel(name: string): Promise<void> {
  const dir = join(root, `${name}-models`)
  await mkdir(dir, { recursive: true })
  seed += 1
  await writeLlamaModel(join(dir, `${name}-model.gguf`), { ...TINY_MODEL, seed })
}

async function start(name: string, release: Release, flags: string[] = []): Promise<Peer> {
  const dataDir = join(root, name)
  const daemon = await startRipple(
    [
      ...['--data-dir', dataDir, '--models-dir', join(root, `${name}-models`), '--api-port', '0'],
      // Today's release logs at info the release of each peer it meets (a gap in protocols at warn).
      ...['--name', name, '--tag', `only-${name}`, '--threads', '1'],
      ...['--log-level', release === 'today' ? 'info' : 'warn', ...flags],
      // Today's release signs its record of what it asked once a slot (a minute by default): a second here.
      ...(release === 'today' ? ['--record-slot', '1s'] : []),
    ],
    90_000,
    { root: rootOf(release) },
  )
  running.push(daemon)
  const line = (key: string) => new RegExp(`^ripple: ${key} (\\S+)$`, 'm').exec(daemon.stdout())?.[1] ?? ''
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  const openai = new OpenAI({ baseURL: `${line('api')}/v1`, apiKey: token, maxRetries: 0 })
  return { ...daemon, name, release, dataDir, agent: line('agent'), model: `${name}-model`, openai }
}

/** `ripple <args> --data-dir <peer's>` with the peer's own release's CLI; fails the test on a non-zero exit. */
async function cli(peer: Peer, args: string[]): Promise<string> {
  const res = await runRipple([...args, '--data-dir', peer.dataDir], { root: rootOf(peer.release) })
  expect(res.code, `${peer.name} (${peer.release}): ripple ${args.join(' ')}\n${res.stderr}`).toBe(0)
  return res.stdout
}

let invites = 0

async function invite(admin: Peer): Promise<string> {
  invites += 1
  const path = join(root, `invite-${invites}.json`)
  await cli(admin, ['invite', 'create', '--role', 'member', '--out', path])
  return path
}

async function stop(peer: Peer): Promise<void> {
  peer.child.kill('SIGTERM')
  expect(await peer.exited).toBe(0)
}

const releaseOf = (peer: Peer) => (peer.release === 'previous' ? previous.release : RELEASE)

/**
 * Waits until `peer` lists `other` online with its model, and its /v1 offers that model; today's
 * release also shows the release each peer runs (the previous one states none: it is shown as 0.1.0)
 * and says it in its log.
 */
async function untilSees(peer: Peer, other: Peer): Promise<void> {
  await eventually(async () => {
    const { peers } = JSON.parse(await cli(peer, ['peers', '--json'])) as PeersReply
    const seen = peers.find((p) => p.agent === other.agent)
    const as = `${other.name} (${other.release}) as ${peer.name} (${peer.release}) lists it`
    expect(seen?.status, as).toBe('online')
    expect(seen?.capability?.inference.models.map((m) => m.name) ?? [], as).toContain(other.model)
    if (peer.release === 'today') {
      expect(seen?.release?.release, `${other.name}'s release as ${peer.name} shows it`).toBe(
        releaseOf(other),
      )
      expect(peers.find((p) => p.self)?.release?.release).toBe(RELEASE)
      expect(`${peer.stdout()}${peer.stderr()}`).toContain(
        `peer ${other.agent} runs Ripple ${releaseOf(other)}`,
      )
    }
    expect((await peer.openai.models.list()).data.map((m) => m.id)).toContain(other.model)
  }, 45_000)
}

/**
 * Asks `asker`'s /v1 for `runner`'s model: the answer comes from the runner, and the asker's own record
 * of the request accepts the leaf the runner signed (the entries one release writes, the other reads).
 */
async function expectServes(asker: Peer, runner: Peer): Promise<void> {
  const messages = [{ role: 'user' as const, content: `${asker.name} asks ${runner.name}` }]
  const { data, response } = await asker.openai.chat.completions
    .create({ model: runner.model, messages, max_tokens: 8, temperature: 0, seed: 7 })
    .withResponse()
  expect(response.headers.get('x-ripple-peer')).toBe(runner.agent)
  expect(data.model).toBe(runner.model)
  expect(['length', 'stop']).toContain(data.choices[0]?.finish_reason)
  expect(data.usage?.prompt_tokens).toBeGreaterThan(0)
  const request = response.headers.get('x-ripple-task') ?? ''
  await eventually(async () => {
    const record = JSON.parse(await cli(asker, ['task', 'show', request, '--json'])) as ServedView
    expect(record.served?.leaf).toMatchObject({ request, runner: runner.agent, accepted: true })
    expect(record.checks.served?.valid).toBe(true)
  }, 30_000)
}

/**
 * A round task only `runner` may claim (its tag), submitted on `asker` with the asker's CLI: done, its
 * one Result by the runner (the Task and Result entries one release writes, the other reads).
 */
async function expectRunsTask(asker: Peer, runner: Peer): Promise<void> {
  const input = JSON.stringify({ message: `${asker.name} to ${runner.name}` })
  const view = JSON.parse(
    await cli(asker, [
      ...['task', 'submit', 'echo', '--input', input, '--tag', `only-${runner.name}`],
      ...['--timeout', '25s', '--wait', '--json'],
    ]),
  ) as TaskView
  expect(view.state.status).toBe('done')
  expect(view.state.results.map((r) => r.author)).toEqual([runner.agent])
}

/** Every action `agent` authored, by DNA and place in its chain, as its data dir holds them. */
function chainOf(dataDir: string, agent: string): Map<string, string> {
  const db = new Database(join(dataDir, 'conductor.sqlite'), { readonly: true, fileMustExist: true })
  try {
    const rows = db
      .prepare('SELECT hex(dna_hash) AS dna, seq, hex(hash) AS hash FROM actions WHERE author = ?')
      .all(Buffer.from(decodeHashB64(agent))) as { dna: string; seq: number; hash: string }[]
    return new Map(rows.map((r) => [`${r.dna}#${r.seq}`, r.hash]))
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-mixed-'))
  previous = await previousRelease()
}, 120_000)

afterAll(async () => {
  for (const d of running) if (d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

describe('today’s release joins a mesh whose admin runs the previous one', { timeout: 120_000 }, () => {
  let admin: Peer
  let joiner: Peer

  beforeAll(async () => {
    await Promise.all([placeModel('old-admin'), placeModel('new-joiner')])
    admin = await start('old-admin', 'previous')
    joiner = await start('new-joiner', 'today', ['--join-file', await invite(admin)])
  }, 180_000)

  afterAll(async () => {
    for (const peer of [admin, joiner]) if (peer?.child.exitCode === null) peer.child.kill('SIGKILL')
  })

  it('joins with the old admin’s invite, and each lists the other online with its model', async () => {
    expect(admin.stdout()).toMatch(/ripple: private mesh created; this peer is its admin/)
    expect(joiner.stdout()).toMatch(/ripple: private mesh joined/)
    await Promise.all([untilSees(admin, joiner), untilSees(joiner, admin)])
  })

  it('today’s dashboard shows the old admin’s release and the gap, naming who should upgrade', async () => {
    const login = /^ripple: open (\S+)/m.exec(joiner.stdout())?.[1] ?? ''
    expect(login, joiner.stdout()).toMatch(/^http/)
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
    try {
      const page = await browser.newPage()
      await page.goto(login)
      await page.locator('nav').waitFor()
      await page.goto(`${new URL(login).origin}/#/mesh`)
      const card = page.locator(`section.peer[data-agent="${admin.agent}"] dd.release`)
      await expect.poll(() => card.textContent(), { timeout: 30_000 }).toContain(`Ripple ${previous.release}`)
      // Shown as a notice: the two releases work together.
      expect(await card.locator('.error').count()).toBe(0)
      expect(await card.locator('.notice').textContent()).toMatch(
        new RegExp(
          `^peer old-admin runs Ripple ${previous.release} \\(.+\\), this peer ${RELEASE} \\(.+\\): upgrade old-admin$`,
        ),
      )
    } finally {
      await browser.close()
    }
  })

  it('each serves the other’s model through /v1', async () => {
    await expectServes(joiner, admin)
    await expectServes(admin, joiner)
  })

  it('each runs the other’s round task', async () => {
    await expectRunsTask(joiner, admin)
    await expectRunsTask(admin, joiner)
  })
})

describe('an admin upgraded in place keeps its mesh, keys, chain, models and pins', {
  timeout: 120_000,
}, () => {
  let admin: Peer
  let member: Peer
  let upgraded: Peer
  const bytes = randomBytes(64 * 1024 + 17)
  let cid = ''
  let agentKey: Buffer
  let recordBefore: string | null
  let chain: Map<string, string>

  beforeAll(async () => {
    await Promise.all([placeModel('admin'), placeModel('old-member')])
    admin = await start('admin', 'previous')
    member = await start('old-member', 'previous', ['--join-file', await invite(admin)])
    await untilSees(admin, member)
    const file = join(root, 'artifact.bin')
    await writeFile(file, bytes)
    const added = JSON.parse(await cli(admin, ['artifact', 'add', file, '--json'])) as ArtifactView
    cid = added.artifact.entry.cid
    await stop(admin)
    agentKey = await readFile(join(admin.dataDir, 'agent.key'))
    recordBefore = await readFile(join(admin.dataDir, DATA_DIR_RECORD), 'utf8').catch(() => null)
    chain = chainOf(admin.dataDir, admin.agent)
    upgraded = await start('admin', 'today')
  }, 180_000)

  afterAll(async () => {
    for (const peer of [member, upgraded]) if (peer?.child.exitCode === null) peer.child.kill('SIGKILL')
  })

  it('keeps its agent key and stays the mesh’s admin', async () => {
    expect(upgraded.agent).toBe(admin.agent)
    expect(await readFile(join(upgraded.dataDir, 'agent.key'))).toEqual(agentKey)
    expect(upgraded.stdout()).not.toMatch(/private mesh created/)
  })

  it('records the data dir as migrated forward: 0.1.0 wrote no record, today’s release writes its own', async () => {
    expect(recordBefore).toBeNull()
    const record = JSON.parse(
      await readFile(join(upgraded.dataDir, DATA_DIR_RECORD), 'utf8'),
    ) as DataDirRecord
    expect(record).toMatchObject({ data_dir_format: PROTOCOLS.data_dir, release: RELEASE })
  })

  it('its invite (today’s) admits a machine on the previous release, which it then serves', async () => {
    // Only an admin may invite: the upgraded peer still can.
    await placeModel('old-joiner')
    const joiner = await start('old-joiner', 'previous', ['--join-file', await invite(upgraded)])
    expect(joiner.stdout()).toMatch(/ripple: private mesh joined/)
    await untilSees(upgraded, joiner)
    await expectServes(upgraded, joiner)
    await stop(joiner)
  })

  it('keeps every action of its chain in its place, the head kept or extended', async () => {
    expect(chain.size).toBeGreaterThan(0)
    const now = chainOf(upgraded.dataDir, upgraded.agent)
    for (const [place, hash] of chain) expect(now.get(place), place).toBe(hash)
    // Its cells are the same DNAs: none begun afresh beside the old chain (a DNA's hash changing would).
    const dnas = (actions: Map<string, string>) =>
      new Set([...actions.keys()].map((place) => place.split('#')[0]))
    expect(dnas(now)).toEqual(dnas(chain))
    expect(now.size).toBeGreaterThan(chain.size)
  })

  it('it and the member still on the previous release serve each other’s model', async () => {
    await Promise.all([untilSees(upgraded, member), untilSees(member, upgraded)])
    await expectServes(upgraded, member)
    await expectServes(member, upgraded)
  })

  it('keeps the artifact it pinned: still a holder, its bytes served from its own store', async () => {
    const view = JSON.parse(await cli(upgraded, ['artifact', 'show', cid, '--json'])) as ArtifactView
    // A member may hold it too: it restored the count while the admin was down. With every other
    // machine stopped, the bytes can only come from the upgraded peer's own pin.
    expect(view.holders.map((h) => h.entry.holder)).toContain(upgraded.agent)
    await stop(member)
    const out = join(root, 'artifact.got')
    await cli(upgraded, ['artifact', 'get', cid, '--output', out])
    expect(await readFile(out)).toEqual(bytes)
  })
})
