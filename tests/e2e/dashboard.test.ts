/**
 * The dashboard in a real browser (Debian's headless Chromium driven by playwright-core) against
 * three `ripple up` processes on loopback: sign-in with the one-time link, and refusals (a wrong code
 * or token, an API key: keys reach /v1 and /mcp only); the mesh page with every peer's hardware (and a peer killed with SIGKILL turning stale, then offline), a
 * chat answer streamed from the peer holding a generated tiny model, a task submitted on the page
 * reaching its receipt, and /metrics parsed with a Prometheus text parser. Screenshots of every page
 * go to test-results/screenshots/; `RIPPLE_UPDATE_SCREENSHOTS=1` also refreshes the docs' own.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore, apiKeysPath } from '../../host/api/api-keys.ts'
import { ApiClient } from '../../host/api/client/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { RELEASE } from '../../host/interface/release.ts'
import { llamaCppTemplate } from '../fixtures/gguf-gen/llama-cpp-templates.ts'
import { startModelServer } from '../fixtures/model-server.ts'
import { isolatedNetwork, REPO_ROOT, type RunningRipple, startRipple } from './ripple-process.ts'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(REPO_ROOT, 'test-results', 'screenshots')

interface Peer extends RunningRipple {
  name: string
  dataDir: string
  agent: string
  apiUrl: string
  loginUrl: string
}

let root: string
let alpha: Peer
let beta: Peer
let gamma: Peer
let browser: Browser
let page: Page

/**
 * The shots the docs show (docs/dashboard.md, the README): with RIPPLE_UPDATE_SCREENSHOTS=1 they are
 * also written to docs/public/screenshots/ (to be committed), so a plain run leaves the tree clean.
 */
const DOCS_SHOTS = new Set(['mesh', 'chat', 'tasks', 'models-loaded'])
const DOCS_SHOTS_DIR = join(REPO_ROOT, 'docs', 'public', 'screenshots')
const UPDATE_DOCS_SHOTS = process.env.RIPPLE_UPDATE_SCREENSHOTS === '1'

const shot = async (name: string, on: Page = page) => {
  const png = await on.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  if (UPDATE_DOCS_SHOTS && DOCS_SHOTS.has(name)) await writeFile(join(DOCS_SHOTS_DIR, `${name}.png`), png)
}
const client = async (peer: Peer) =>
  new ApiClient({
    baseUrl: peer.apiUrl,
    token: (await readFile(join(peer.dataDir, 'api-token'), 'utf8')).trim(),
  })

beforeAll(async () => {
  // The daemons serve ui/dist: built here when missing or stale, as `npm start` does.
  await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts', 'build-ui.sh')], { cwd: REPO_ROOT })
  await mkdir(SHOTS, { recursive: true })
  if (UPDATE_DOCS_SHOTS) await mkdir(DOCS_SHOTS_DIR, { recursive: true })
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-dashboard-'))
  // Short heartbeats so a killed peer turns stale, then offline, within seconds.
  const network = await isolatedNetwork(root, 'e2e-dashboard', {
    heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 8000 },
  })
  const start = async (name: string, withModel: boolean): Promise<Peer> => {
    const dataDir = join(root, name)
    const models = join(root, `${name}-models`)
    await mkdir(models, { recursive: true })
    if (withModel) {
      await writeLlamaModel(join(models, 'tiny.gguf'), TINY_MODEL)
      // A thinking model: DeepSeek-R1's template (llama.cpp's collection) opens the reasoning block.
      const chatTemplate = await llamaCppTemplate('deepseek-r1')
      await writeLlamaModel(join(models, 'thinker.gguf'), { ...TINY_MODEL, seed: 4, chatTemplate })
    }
    const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
    const daemon = await startRipple(
      [...flags, '--name', name, '--threads', '1', '--log-level', 'warn'],
      90_000,
    )
    const out = daemon.stdout()
    const loginUrl = /^ripple: open (\S+)/m.exec(out)?.[1] ?? ''
    return {
      ...daemon,
      name,
      dataDir,
      agent: /^ripple: agent (\S+)$/m.exec(out)?.[1] ?? '',
      apiUrl: new URL(loginUrl).origin,
      loginUrl,
    }
  }
  ;[alpha, beta, gamma] = await Promise.all([
    start('alpha', false),
    start('beta', true),
    start('gamma', false),
  ])
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  for (const d of [alpha, beta, gamma]) if (d && d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

describe('the dashboard in headless Chromium, three ripple up processes', { timeout: 120_000 }, () => {
  it('refuses a wrong login code and a wrong token', async () => {
    await page.goto(`${alpha.apiUrl}/?code=not-a-code`)
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('already used or has expired')
    await page.getByLabel('API token').fill('not-the-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong token')
    await shot('sign-in-refused')
    // Still signed out: the pages and the API stay closed.
    expect(await page.locator('nav').count()).toBe(0)
    expect(
      (await fetch(`${alpha.apiUrl}/api/status`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401)
  })

  it('signs in with the one-time link, which works once', async () => {
    await page.goto(alpha.loginUrl)
    await page.locator('nav').waitFor()
    expect(new URL(page.url()).searchParams.get('code')).toBeNull()
    // The link is spent: a second browser cannot use it.
    const other = await browser.newPage()
    await other.goto(alpha.loginUrl)
    await expect.poll(() => other.getByRole('alert').textContent()).toContain('already used')
    await other.close()
  })

  it('shows all three peers with their hardware on the mesh page', async () => {
    await page.goto(`${alpha.apiUrl}/#/mesh`)
    for (const peer of [alpha, beta, gamma]) {
      const card = page.locator(`section.peer[data-agent="${peer.agent}"]`)
      await expect.poll(() => card.getAttribute('data-status'), { timeout: 60_000 }).toBe('online')
      await expect.poll(() => card.locator('dd.cpu').textContent()).toMatch(/\d+ cores \/ \d+ threads/)
      expect(await card.locator('dd.ram').textContent()).toMatch(/\d+(\.\d)? (MiB|GiB|TiB)/)
      expect(await card.locator('h3').textContent()).toContain(peer.name)
      // Each peer's release, from its hello (all three run this one: no gap named).
      await expect.poll(() => card.locator('dd.release').textContent()).toBe(`Ripple ${RELEASE}`)
    }
    await expect
      .poll(() => page.locator(`section.peer[data-agent="${beta.agent}"] .badge`).allTextContents())
      .toContain('tiny')
    // Load over the last minutes: a sparkline once two heartbeats arrived.
    await page.locator(`section.peer[data-agent="${alpha.agent}"] svg.spark`).waitFor({ timeout: 30_000 })
    await shot('mesh')
  })

  it('streams a chat answer and names the peer that ran it', async () => {
    await page.goto(`${alpha.apiUrl}/#/chat`)
    await page
      .locator('select[name="model"] option[value="tiny"]')
      .waitFor({ state: 'attached', timeout: 60_000 })
    await page.locator('select[name="model"]').selectOption('tiny')
    // Every text the answer box shows before the receipt arrives, to see that it grew token by token.
    // (A string: it runs in the page, whose DOM types this Node test does not load.)
    await page.evaluate(`{
      const seen = (window.seen = [])
      const root = document.querySelector('ripple-app').shadowRoot.querySelector('chat-page').shadowRoot
      new MutationObserver(() => {
        const text = root.querySelector('.answer')?.textContent ?? ''
        if (!root.querySelector('.ran-on') && text !== seen.at(-1)) seen.push(text)
      }).observe(root, { subtree: true, childList: true, characterData: true })
    }`)
    await page.locator('textarea[name="prompt"]').fill('Which peer answers this?')
    await page.locator('input[name="max-tokens"]').fill('48')
    await page.getByRole('button', { name: 'Send' }).click()
    const ranOn = page.locator('.chat-answer .ran-on-peer')
    await ranOn.waitFor({ timeout: 90_000 })
    expect(await ranOn.textContent()).toBe('beta')
    const answer = (await page.locator('.chat-answer .answer').textContent()) ?? ''
    expect(answer.length).toBeGreaterThan(0)
    const seen = (await page.evaluate('window.seen')) as string[]
    const partial = seen.filter(
      (t) => t !== '…' && t.length > 0 && t.length < answer.length && answer.startsWith(t),
    )
    expect(partial.length, `texts seen: ${JSON.stringify(seen)}`).toBeGreaterThan(0)
    await expect
      .poll(() => page.locator('.chat-answer').textContent(), { timeout: 30_000 })
      .toMatch(/Signed batch .* recorded\s+accepted/s)
    // It went through the OpenAI-compatible endpoint, straight to beta: the record of the request
    // names beta as its runner, whose signed leaf for it checks against beta's batch.
    const request = (await page.locator('.chat-answer').getAttribute('data-task')) ?? ''
    const record = await (await client(alpha)).getServed(request)
    expect(record.served?.leaf).toMatchObject({ model: 'tiny', runner: beta.agent, accepted: true })
    expect(record.checks.served?.valid).toBe(true)
    await shot('chat')
  })

  it("shows a thinking model's reasoning apart from its answer, as it streams", async () => {
    await page.goto(`${alpha.apiUrl}/#/chat`)
    await page
      .locator('select[name="model"] option[value="thinker"]')
      .waitFor({ state: 'attached', timeout: 60_000 })
    await page.locator('select[name="model"]').selectOption('thinker')
    await page.locator('textarea[name="prompt"]').fill('Think first, then answer: which peer runs this?')
    await page.locator('input[name="max-tokens"]').fill('24')
    // Greedy: sampled, the random weights may write what llama.cpp's parser for the template refuses,
    // and the fallback's plain-text answer then carries the reasoning block as text (docs/models.md, "Reasoning models").
    await page.locator('input[name="temperature"]').fill('0')
    await page.getByRole('button', { name: 'Send' }).click()
    const latest = page.locator('.chat-answer').first()
    // While it thinks (random weights never close the block), the reasoning shows, open.
    const thought = latest.locator('details.reasoning .thought')
    await expect
      .poll(async () => ((await thought.textContent()) ?? '').length, { timeout: 60_000 })
      .toBeGreaterThan(0)
    await expect
      .poll(() => latest.textContent(), { timeout: 60_000 })
      .toMatch(/Signed batch .* recorded\s+accepted/s)
    const reasoning = (await thought.textContent()) ?? ''
    const answer = (await latest.locator('.answer').textContent()) ?? ''
    expect(reasoning.length).toBeGreaterThan(0)
    expect(answer).not.toContain(reasoning)
    // Random weights never close the block: the answer says so, never an empty box. Sampled, they
    // may end the output inside it (its end token) before max tokens does.
    expect(answer).toMatch(/^No answer: (max tokens ran out|the model stopped) while it reasoned\.$/)
    await shot('chat-reasoning')
  })

  it('lists artifacts live with their holders, and pins one on this peer', async () => {
    await page.goto(`${alpha.apiUrl}/#/artifacts`)
    await page.getByText('No artifact yet').waitFor({ timeout: 30_000 })
    const added = await (await client(beta)).addArtifact(
      (async function* () {
        yield new TextEncoder().encode('a dataset the dashboard shows\n'.repeat(100))
      })(),
      { name: 'dataset.txt', mime_type: 'text/plain' },
    )
    const cid = added.artifact.entry.cid
    const row = page.locator(`tr.artifact[data-cid="${cid}"]`)
    await row.waitFor({ timeout: 30_000 })
    // The row may come before its holders (the pin commitment follows the artifact).
    await expect.poll(() => row.locator('.holders').textContent(), { timeout: 30_000 }).toContain('beta')
    expect(await row.locator('.replication').textContent()).toBe('1/1')
    await row.getByRole('button', { name: 'Pin here' }).click()
    await expect
      .poll(
        async () =>
          `${await row.locator('.holders').textContent()} | ${await page
            .locator('artifacts-page p.message')
            .textContent({ timeout: 100 })
            .catch(() => '')} | ${await row.locator('button').textContent()}`,
        // The pin fetches the file from beta over bitswap, where alpha now and then asks again for
        // the block it was just sent and waits for its next want round (about 10 s; 20 s before beta
        // was told to resend at once): room for that, not for a pin that never comes.
        { timeout: 60_000 },
      )
      .toMatch(/alpha.*\| dataset\.txt: pinned and kept on this peer/s)
    await row.getByRole('button', { name: 'Release here' }).waitFor()
    await shot('artifacts')
  })

  it('shows a task submitted on the page until its receipt', async () => {
    await page.goto(`${alpha.apiUrl}/#/tasks`)
    await page.locator('select[name="kind"]').selectOption('echo')
    await page.locator('textarea[name="input"]').fill('{"message": "from the dashboard"}')
    await page.getByRole('button', { name: 'Submit' }).click()
    const detail = page.locator('.task-detail')
    await expect.poll(() => detail.getAttribute('data-status'), { timeout: 60_000 }).toBe('done')
    const hash = (await detail.getAttribute('data-task')) ?? ''
    await expect.poll(() => detail.locator('.receipt').textContent()).toMatch(/^accepted/)
    expect(await detail.textContent()).toMatch(/Claimed.*Assigned.*Result.*Receipt/s)
    // The live list shows it too, done (its own feed may land a moment after the detail's).
    await expect
      .poll(() => page.locator(`tr.task[data-task="${hash}"]`).getAttribute('data-status'), {
        timeout: 30_000,
      })
      .toBe('done')
    await shot('tasks')
  })

  it('serves /metrics in Prometheus text format whose counters move when tasks run', async () => {
    expect((await fetch(`${alpha.apiUrl}/metrics`)).status).toBe(401)
    const api = await client(alpha)
    const token = (await readFile(join(alpha.dataDir, 'api-token'), 'utf8')).trim()
    const scrape = async (peer: Peer, tokenOf: string) => {
      const res = await fetch(`${peer.apiUrl}/metrics`, { headers: { authorization: `Bearer ${tokenOf}` } })
      expect(res.status).toBe(200)
      return parsePrometheusTextFormat(await res.text())
    }
    const value = (
      families: ReturnType<typeof parsePrometheusTextFormat>,
      name: string,
      labels: Record<string, string> = {},
    ) =>
      (families.find((f) => f.name === name)?.metrics ?? [])
        .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
        .reduce((sum, m) => sum + Number(m.value ?? m.buckets?.['+Inf'] ?? 0), 0)
    const before = await scrape(alpha, token)
    expect(value(before, 'ripple_peers', { status: 'online' })).toBe(3)
    expect(value(before, 'ripple_tokens_generated_total')).toBeGreaterThan(0) // the chat answer
    expect(value(before, 'ripple_process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(value(before, 'ripple_ops_stored_total')).toBeGreaterThan(0)
    // Its gossip by part (gossip-parts.ts): at least its topics' subscriptions, told to the others.
    expect(value(before, 'ripple_net_gossip_sent_total', { part: 'subscription' })).toBeGreaterThan(0)
    for (let i = 0; i < 2; i++) {
      const ref = await api.submitTask({ kind: 'sha256', input: { data: `metrics ${i}` } })
      expect((await api.followTask(ref.action_hash)).state.status).toBe('done')
    }
    await expect
      .poll(async () => value(await scrape(alpha, token), 'ripple_tasks_ended_total', { status: 'done' }))
      .toBe(value(before, 'ripple_tasks_ended_total', { status: 'done' }) + 2)
    // An op of another agent stored here (the tasks may all have run on alpha, claimed by no one else):
    // beta advertises its capability again, and alpha holds it before the counters are read.
    const fromBeta = await client(beta)
    const { capability } = await fromBeta.status()
    const ref = await fromBeta.callZome('agent_registry', 'advertise_capability', {
      ...capability,
      tags: [...capability.tags, 'metrics-test'],
    })
    expect((await api.waitForRecord(ref.action_hash, { timeoutMs: 10_000 })).stored).toBe(true)
    const after = await scrape(alpha, token)
    // A histogram's count is its +Inf bucket. (parse-prometheus-text-format 1.1 drops the labels, sum and
    // count of labelled histograms, so these are read unfiltered: every task of this test ends done.)
    expect(value(after, 'ripple_task_duration_seconds')).toBe(
      value(before, 'ripple_task_duration_seconds') + 2,
    )
    expect(value(after, 'ripple_claims_total')).toBeGreaterThanOrEqual(
      value(before, 'ripple_claims_total') + 2,
    )
    expect(
      value(after, 'ripple_api_requests_total', { route: '/api/tasks', method: 'POST', status: '201' }),
    ).toBe(
      value(before, 'ripple_api_requests_total', { route: '/api/tasks', method: 'POST', status: '201' }) + 2,
    )
    expect(value(after, 'ripple_ops_stored_total')).toBeGreaterThan(value(before, 'ripple_ops_stored_total'))
    // Every op of another agent stored here is one observation of the replication lag.
    expect(value(after, 'ripple_replication_lag_seconds')).toBeGreaterThan(
      value(before, 'ripple_replication_lag_seconds'),
    )
    // The peer that ran the chat loaded the model for it.
    const betaToken = (await readFile(join(beta.dataDir, 'api-token'), 'utf8')).trim()
    expect(value(await scrape(beta, betaToken), 'ripple_model_load_seconds')).toBeGreaterThanOrEqual(1)
  })

  it('shows the models of this peer and of the mesh, and the policies page', async () => {
    await page.goto(`${alpha.apiUrl}/#/models`)
    await page.getByText('No model here').waitFor()
    await page.locator('models-page tr[data-model="tiny"] .badge', { hasText: 'beta · loaded' }).waitFor()
    await shot('models')
    await page.goto(`${alpha.apiUrl}/#/policies`)
    await page.getByText('open network').waitFor()
    await shot('policies')
  })

  it('pulls a model by URL on the models page, with progress, into this peer', async () => {
    const server = await startModelServer()
    try {
      const dir = await mkdtemp(join(tmpdir(), 'ripple-e2e-pull-'))
      await writeLlamaModel(join(dir, 'pulled.gguf'), { ...TINY_MODEL, seed: 7 })
      server.put('/models/pulled.gguf', await readFile(join(dir, 'pulled.gguf')))
      await page.goto(`${alpha.apiUrl}/#/models`)
      await page.getByText('No model here').waitFor()
      // The engine's backend, and why the GPU backends are not used (no GPU here).
      await page.getByText(/Engine: llama\.cpp \S+ on cpu/).waitFor()
      expect(await page.locator('[data-backend="cuda-prebuilt"]').textContent()).toContain(
        'no NVIDIA GPU found',
      )
      await page.locator('input[name="source"]').fill(`${server.url}/models/pulled.gguf`)
      await page.getByRole('button', { name: 'Pull' }).click()
      await page.getByText(/pulled \(.*\), checked and advertised/).waitFor({ timeout: 60_000 })
      await page.locator('tr.model[data-model="pulled"]').waitFor({ timeout: 30_000 })
      await shot('models-pulled')
      // Loaded here, it says how long it has been idle and when its keep-alive (5 min by default) unloads it.
      const pulled = page.locator('tr.model[data-model="pulled"]')
      await pulled.getByRole('button', { name: 'Load' }).click()
      await pulled
        .locator('.keep-alive', { hasText: /^idle \S+, unloads in [45]m/ })
        .waitFor({ timeout: 30_000 })
      await shot('models-loaded')
      await rm(dir, { recursive: true, force: true })
    } finally {
      await server.close()
    }
  })

  it('refuses an API key at sign-in: the dashboard takes the token, a key reaches /v1 and /mcp only', async () => {
    // Beta has `tiny`; the key may run `tiny` only.
    const { key } = await new ApiKeyStore(apiKeysPath(alpha.dataDir)).create({
      name: 'viewer',
      models: ['tiny'],
    })
    const viewer = await browser.newPage({ viewport: { width: 1360, height: 900 } })
    try {
      await viewer.goto(`${alpha.apiUrl}/`)
      await viewer.getByLabel('API token').fill(key)
      await viewer.getByRole('button', { name: 'Sign in' }).click()
      await expect.poll(() => viewer.getByRole('alert').textContent()).toContain('reaches /v1 and /mcp only')
      await shot('key-refused', viewer)
      expect(await viewer.locator('nav').count()).toBe(0)
      // The API refuses it whatever the page does: the mesh's data (tasks, metrics) and changes.
      const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
      for (const [method, path] of [
        ['GET', '/api/tasks'],
        ['GET', '/api/events'],
        ['GET', '/metrics'],
        ['POST', '/api/tasks'],
      ] as const) {
        const body =
          method === 'POST' ? JSON.stringify({ kind: 'echo', input: { message: 'no' } }) : undefined
        const refused = await fetch(`${alpha.apiUrl}${path}`, { method, headers: auth, body })
        expect(refused.status, path).toBe(403)
      }
      // The key runs its model on /v1, and no other.
      const ask = (model: string) =>
        fetch(`${alpha.apiUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({
            model,
            max_tokens: 4,
            messages: [{ role: 'user', content: 'Hello from a key' }],
          }),
        })
      const answer = await ask('tiny')
      expect(answer.status).toBe(200)
      expect(answer.headers.get('x-ripple-peer')).toBe(beta.agent)
      expect((await ask('pulled')).status).toBe(403)
    } finally {
      await viewer.close()
    }
  })

  it('shows a memory collection, its shards over the peers, and searches it', async () => {
    await page.goto(`${alpha.apiUrl}/#/memory`)
    await page.getByText('No collection yet').waitFor({ timeout: 30_000 })
    const api = await client(alpha)
    await api.createCollection({ name: 'points', dimension: 3, shard_count: 4, replication: 2, metric: 'l2' })
    const docs = Array.from({ length: 40 }, (_, i) => ({
      id: `p${i}`,
      vector: [i, i % 7, i % 3],
      metadata: { tenth: Math.floor(i / 10) },
    }))
    await expect
      .poll(async () => (await api.upsertDocs('points', docs).catch(() => null))?.written, {
        timeout: 60_000,
      })
      .toBe(40)
    // A new collection answers on every shard as soon as it is written.
    const answer = await api.queryCollection('points', { vector: [12, 5, 0], k: 1 })
    expect(answer).toMatchObject({ hits: [{ id: 'p12' }], shards_missing: [] })
    await page.reload()
    await page.locator('tr.collection[data-collection="points"]').click()
    await expect.poll(() => page.locator('.shard').count(), { timeout: 30_000 }).toBe(4)
    await page.locator('input[name="query"]').fill('[12, 5, 0]')
    await page.getByRole('button', { name: 'Search' }).click()
    const first = page.locator('tr.hit').first()
    await first.waitFor({ timeout: 30_000 })
    expect(await first.getAttribute('data-id')).toBe('p12')
    expect(await page.locator('.result-shards').textContent()).toMatch(/4 shards answered/)
    await shot('memory')
  })

  it('turns a peer killed with SIGKILL stale, then offline, on the mesh page', async () => {
    await page.goto(`${alpha.apiUrl}/#/mesh`)
    const card = page.locator(`section.peer[data-agent="${gamma.agent}"]`)
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 30_000 }).toBe('online')
    gamma.child.kill('SIGKILL')
    await gamma.exited
    await expect
      .poll(() => card.getAttribute('data-status'), { timeout: 30_000, interval: 200 })
      .toBe('stale')
    await shot('mesh-peer-stale')
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 30_000 }).toBe('offline')
    await shot('mesh-peer-offline')
  })
})
