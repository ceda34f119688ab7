/**
 * Route, then run, on four real processes: the asker has no model, three runners have the same file
 * loaded. Requests through the official `openai` client go straight to a runner: eight at once spread
 * over the runners by their free slots, each with its record (the runner's leaf in its signed batch,
 * the asker's batch of what it served, each proof checked), and no prompt or answer on the runners that
 * did not run it (their API, every file of their data dir) while any of them can check the asker's proof
 * against the runner's public batch; a runner killed after its first token ends that answer with a
 * clear error and no second answer; a runner killed before its first token passes its requests to the
 * next one; a runner killed before its window is signed leaves its answer on record as not accepted.
 * A request through the scheduling round likewise leaves its prompt and answer with its two parties.
 * Conversations staying on the runner holding their prompt cache: conversation-affinity.test.ts.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServedView, TaskView } from '../../host/api/contract/index.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { eventually, isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

type Peer = RunningRipple & { name: string; dataDir: string; agent: string; url: string; token: string }

let root: string
let asker: Peer
let runners: Peer[]
let openai: OpenAI
const ask = [{ role: 'user' as const, content: 'Route me straight to a runner.' }]
const ASKER_SLOT_MS = 5_000

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-direct-'))
  // The asker is the mesh's admin (its progenitor), so it can publish policies.
  const admin = await openAgentKey(join(root, 'asker'))
  const network = await isolatedNetwork(root, 'e2e-direct', {
    dna_properties: { policy_store: { progenitor: encodeHashB64(admin.agentPubKey) } },
  })
  const start = async (name: string): Promise<Peer> => {
    const dataDir = join(root, name)
    const models = join(root, `${name}-models`)
    await mkdir(models, { recursive: true })
    if (name !== 'asker') await writeLlamaModel(join(models, 'tiny.gguf'), TINY_MODEL)
    const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
    // The asker signs its record of what it asked every ASKER_SLOT_MS (the runners every second).
    if (name === 'asker') flags.push('--record-slot', `${ASKER_SLOT_MS}ms`)
    const daemon = await startRipple(
      [...flags, '--name', name, '--threads', '1', '--parallel', '2', '--log-level', 'warn'],
      90_000,
    )
    const line = (key: string) => new RegExp(`^ripple: ${key} (\\S+)$`, 'm').exec(daemon.stdout())?.[1] ?? ''
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
    return { ...daemon, name, dataDir, agent: line('agent'), url: line('api'), token }
  }
  const peers = await Promise.all(['asker', 'r1', 'r2', 'r3'].map(start))
  asker = peers[0]!
  runners = peers.slice(1)
  await Promise.all(runners.map((r) => runRipple(['models', 'load', 'tiny', '--data-dir', r.dataDir])))
  openai = new OpenAI({ baseURL: `${asker.url}/v1`, apiKey: asker.token, maxRetries: 0 })
  // The asker must see every runner with the model loaded and its slots before it routes.
  for (const deadline = Date.now() + 60_000; ; ) {
    const models = await openai.models.list()
    const tiny = models.data.find((m) => m.id === 'tiny') as { ripple?: { loaded_on: string[] } } | undefined
    if (tiny?.ripple?.loaded_on.length === 3) break
    if (Date.now() > deadline) throw new Error('the asker never saw the three runners with the model loaded')
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}, 180_000)

afterAll(async () => {
  for (const p of [asker, ...(runners ?? [])]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

/** The llama-server processes serving these peers' model files (their command lines name the file). */
async function enginesOf(peers: readonly Peer[]): Promise<string[]> {
  const found: string[] = []
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (!cmdline.includes('llama-server')) continue
    if (peers.some((p) => cmdline.includes(join(root, `${p.name}-models`)))) found.push(pid)
  }
  return found
}

async function metric(name: string): Promise<number> {
  const text = await (
    await fetch(`${asker.url}/metrics`, { headers: { authorization: `Bearer ${asker.token}` } })
  ).text()
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
}

async function served(
  request: string,
  peer: Peer = asker,
): Promise<{ status: number; body: ServedView | null }> {
  const response = await fetch(`${peer.url}/api/served/${request}`, {
    headers: { authorization: `Bearer ${peer.token}` },
  })
  return { status: response.status, body: response.ok ? ((await response.json()) as ServedView) : null }
}

/** Every file under `dir`, read whole (a data dir: the SQLite store with its WAL, keys, IPFS blocks). */
async function filesUnder(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      out.push(await readFile(join(entry.parentPath, entry.name)).catch(() => Buffer.alloc(0)))
  }
  return out
}

const complete = (maxTokens = 32) =>
  openai.chat.completions
    .create({ model: 'tiny', messages: ask, max_tokens: maxTokens, temperature: 0, seed: 3 })
    .withResponse()

describe('a /v1 request goes straight to a runner, and its record follows', () => {
  it('spreads eight requests at once over the runners by free slots, each on record', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => complete()))
    const ran = answers.map((a) => a.response.headers.get('x-ripple-peer'))
    const agents = runners.map((r) => r.agent)
    for (const peer of ran) expect(agents).toContain(peer)
    // Two slots each: eight requests cannot all land on one or two runners without waiting.
    expect(new Set(ran).size).toBe(3)
    // Same seed, greedy, same file: every runner gives the same text.
    expect(new Set(answers.map((a) => a.data.choices[0]?.message.content)).size).toBe(1)
    const batches = new Set<string>()
    for (const { response } of answers) {
      const request = response.headers.get('x-ripple-task') ?? ''
      const runner = response.headers.get('x-ripple-peer')
      const { body } = await served(request)
      // The asker's record: the runner's leaf for this request and output, its proof valid.
      expect(body?.served?.leaf).toMatchObject({ request, runner, accepted: true, reason: '' })
      expect(body?.served?.leaf.proof?.leaf).toMatchObject({ request, requester: asker.agent, status: 'ok' })
      expect(body?.served?.leaf.proof?.leaf.output_hash).toBe(body?.served?.leaf.output_hash)
      expect(body?.checks.served?.valid, body?.checks.served?.reason).toBe(true)
      expect(body?.served?.runner_batch?.author).toBe(runner)
      // The runner's record of it: its own leaf, proven against its own batch.
      const ran = runners.find((r) => r.agent === runner)!
      const there = (await served(request, ran)).body
      expect(there?.answered?.proof.leaf).toEqual(body?.served?.leaf.proof?.leaf)
      expect(there?.checks.answered?.valid).toBe(true)
      batches.add(there?.answered?.proof.batch ?? '')
    }
    // One signature per window: the eight answers, run at once, share fewer batches than requests.
    expect(batches.size).toBeLessThan(8)
    expect(await metric('ripple_direct_recorded_total')).toBeGreaterThanOrEqual(8)
  })

  it('`ripple task show` right after a request says it waits for the record, signed at its slot’s end', async () => {
    // Just past the start of one of the asker's slots, so that its end is seconds away.
    await new Promise((resolve) => setTimeout(resolve, ASKER_SLOT_MS - (Date.now() % ASKER_SLOT_MS) + 200))
    const { response } = await complete(4)
    const request = response.headers.get('x-ripple-task') ?? ''
    const show = await runRipple(['task', 'show', request, '--data-dir', asker.dataDir])
    expect(show.code, show.stderr).toBe(0)
    expect(show.stderr).toMatch(
      /waiting for its record: a requester signs what it asked at the end of each slot/,
    )
    expect(show.stdout).toMatch(/accepted/)
    expect(show.stdout).not.toMatch(/not accepted/)
    const { body } = await served(request)
    const window = body!.served!.batch.entry
    expect([window.opened_at % (ASKER_SLOT_MS * 1000), window.closed_at - window.opened_at]).toEqual([
      0,
      ASKER_SLOT_MS * 1000,
    ])
  })

  it('leaves no prompt or answer with a peer that took no part, which can still check the proof', async () => {
    const { data, response } = await complete(48)
    const request = response.headers.get('x-ripple-task') ?? ''
    const text = data.choices[0]?.message.content ?? ''
    expect(text.length).toBeGreaterThan(20)
    const bystanders = runners.filter((r) => r.agent !== response.headers.get('x-ripple-peer'))
    const { body } = await served(request)
    const proof = body?.served?.leaf.proof
    if (!proof) throw new Error(`no proof on record: ${JSON.stringify(body)}`)
    for (const peer of bystanders) {
      // Not through its API ...
      expect((await served(request, peer)).status).toBe(404)
      // ... not in any file of its data dir (the SQLite store and its WAL included) ...
      for (const file of await filesUnder(peer.dataDir)) {
        expect(file.includes(text)).toBe(false)
        expect(file.includes(ask[0]!.content)).toBe(false)
      }
      // ... yet given the leaf and its proof, it checks them against the runner's public batch.
      const check = await fetch(`${peer.url}/api/served/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${peer.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(proof),
      })
      expect(await check.json()).toMatchObject({ valid: true, batch: { author: body?.served?.leaf.runner } })
      const forged = { ...proof, leaf: { ...proof.leaf, output_hash: 'f'.repeat(64) } }
      const refused = await fetch(`${peer.url}/api/served/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${peer.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(forged),
      })
      expect(await refused.json()).toMatchObject({ valid: false })
    }
  })

  it('keeps a task of the scheduling round with its two parties: the others hold its hashes, not its content', async () => {
    const secret = [{ role: 'user' as const, content: 'A prompt for the scheduling round alone.' }]
    const { data, response } = await openai.chat.completions
      .create({
        model: 'tiny',
        messages: secret,
        max_tokens: 24,
        temperature: 0,
        seed: 4,
        ripple: { route: 'round' },
      } as never)
      .withResponse()
    const answer = (data as OpenAI.ChatCompletion).choices[0]?.message.content ?? ''
    expect(answer.length).toBeGreaterThan(10)
    const hash = response.headers.get('x-ripple-task') ?? ''
    const runner = response.headers.get('x-ripple-peer')
    const taskOn = async (peer: Peer) => {
      for (const deadline = Date.now() + 30_000; ; ) {
        const res = await fetch(`${peer.url}/api/tasks/${hash}`, {
          headers: { authorization: `Bearer ${peer.token}` },
        })
        const view = res.ok ? ((await res.json()) as TaskView) : null
        if (view?.state.status === 'done') return { view, text: JSON.stringify(view) }
        if (Date.now() > deadline) throw new Error(`${peer.name} never saw task ${hash} done`)
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
    }
    // The requester holds both; the runner its answer (the input it was given stays in its memory).
    const mine = await taskOn(asker)
    const result = mine.view.state.receipt!.entry.result
    expect(JSON.stringify(mine.view.payloads.input)).toContain(secret[0]!.content)
    expect((mine.view.payloads.outputs[result] as { text: string }).text).toBe(answer)
    const ran = await taskOn(runners.find((r) => r.agent === runner)!)
    expect((ran.view.payloads.outputs[result] as { text: string }).text).toBe(answer)
    for (const peer of runners.filter((r) => r.agent !== runner)) {
      const { view, text } = await taskOn(peer)
      // Its API shows the records, with the input's and the output's hashes only ...
      expect(view.payloads).toEqual({ input: null, outputs: {} })
      expect(view.state.task.entry.input_hash).toMatch(/^[0-9a-f]{64}$/)
      expect(text).not.toContain(secret[0]!.content)
      expect(text).not.toContain(answer)
      // ... and no file of its data dir holds either.
      for (const file of await filesUnder(peer.dataDir)) {
        expect(file.includes(answer)).toBe(false)
        expect(file.includes(secret[0]!.content)).toBe(false)
      }
    }
  })

  it("asks each runner's policies before it runs: a denial is refused and said why, on no public record", async () => {
    const policy = (id: string, text: string) =>
      runRipple(['policy', 'publish', id, '--text', text, '--data-dir', asker.dataDir])
    const deny = await policy(
      'no-tiny',
      'permit(principal, action, resource);\nforbid(principal, action == Action::"run", resource) when { resource.model == "tiny" };',
    )
    expect(deny.code, deny.stderr).toBe(0)
    // Each runner holds the policy once it has it; until then a request may still run.
    let refusal: { status: number; message: string; headers: Headers } | null = null
    for (const deadline = Date.now() + 30_000; refusal === null && Date.now() < deadline; ) {
      refusal = await complete().then(
        () => null,
        (err: { status: number; message: string; headers: Headers }) => err,
      )
      if (refusal === null) await new Promise((resolve) => setTimeout(resolve, 300))
    }
    // Every runner refused by policy: a 429 with the time to retry, in the API's own shape (issue 47).
    expect(refusal?.status).toBe(429)
    expect(Number(refusal?.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(refusal?.message).toMatch(/denied by policy: forbidden by no-tiny/)
    // A denial pairs nobody in public (issue 55, point 6): no runner writes a Decision for it.
    for (const runner of runners) {
      const decisions = (await (
        await fetch(`${runner.url}/api/zome/policy_store/list_decisions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${runner.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({}),
        })
      ).json()) as unknown[]
      expect(decisions).toEqual([])
    }
    const allow = await policy('no-tiny', 'permit(principal, action, resource);')
    expect(allow.code, allow.stderr).toBe(0)
    await eventually(async () => {
      await complete()
    }, 30_000)
  })

  it('ends an answer whose runner died after its first token with a clear error, never a second answer', async () => {
    const requestsBefore = await metric('ripple_direct_requests_total')
    const failoversBefore = await metric('ripple_direct_failovers_total')
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'tiny', messages: ask, max_tokens: 30_000, temperature: 0, stream: true })
      .withResponse()
    const runner = response.headers.get('x-ripple-peer')
    const victim = runners.find((r) => r.agent === runner)
    if (!victim) throw new Error(`the answer came from ${runner}, not a runner`)
    let text = ''
    const failure = (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? ''
        if (text.length > 0 && victim.child.exitCode === null) victim.child.kill('SIGKILL')
      }
    })()
    await expect(failure).rejects.toThrow(
      new RegExp(`${victim.agent} answering it stopped after its answer began`),
    )
    expect(text.length).toBeGreaterThan(0)
    // The answer's end can come before this process hears of the victim's exit: the next test picks
    // its victim among the runners still running.
    if (victim.child.signalCode === null) await new Promise((resolve) => victim.child.once('exit', resolve))
    // One request, passed to nobody else, and no record of an answer that never ended.
    expect(await metric('ripple_direct_requests_total')).toBe(requestsBefore + 1)
    expect(await metric('ripple_direct_failovers_total')).toBe(failoversBefore)
    expect((await served(response.headers.get('x-ripple-task') ?? '')).status).toBe(404)
  })
  it('passes the requests of a runner killed before its first token to the next one', async () => {
    // One runner died in the test before; this kills another: a single one is left to answer.
    const victim = runners.find((r) => r.child.exitCode === null && r.child.signalCode === null)!
    const failoversBefore = await metric('ripple_direct_failovers_total')
    victim.child.kill('SIGKILL')
    // The asker still sees the victim's last heartbeat: some of these go to it first.
    const answers = await Promise.all(Array.from({ length: 4 }, () => complete()))
    for (const { data, response } of answers) {
      expect(response.headers.get('x-ripple-peer')).not.toBe(victim.agent)
      expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0)
    }
    expect(await metric('ripple_direct_failovers_total')).toBeGreaterThan(failoversBefore)
    // A daemon killed outright takes its engine with it (the kernel kills the orphan): no llama-server
    // of a killed runner lives on holding the model's memory.
    const killed = runners.filter((r) => r.child.signalCode === 'SIGKILL')
    expect(killed).toHaveLength(2)
    await eventually(async () => {
      const left = await enginesOf(killed)
      expect(left).toEqual([])
    }, 10_000)
    expect(await enginesOf(runners.filter((r) => r.child.signalCode === null))).toHaveLength(1)
  })

  it('records an answer whose runner died before signing its window as not accepted, and says so', async () => {
    const last = runners.find((r) => r.child.exitCode === null && r.child.signalCode === null)!
    const { data, response } = await complete()
    // The runner signs its window of answers about a second after the first: killed at once, it never does.
    last.child.kill('SIGKILL')
    expect(response.headers.get('x-ripple-peer')).toBe(last.agent)
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0)
    const request = response.headers.get('x-ripple-task') ?? ''
    await eventually(async () => {
      const { body } = await served(request)
      expect(body?.served?.leaf).toMatchObject({ request, runner: last.agent, accepted: false, proof: null })
      expect(body?.served?.leaf.reason).toMatch(/the runner signed no record of it/)
    }, 30_000)
    const show = await runRipple(['task', 'show', request, '--data-dir', asker.dataDir])
    expect(show.stdout).toMatch(/not accepted: the runner signed no record of it/)
  })
})
