/**
 * Sharing fairly (issue 47): one runner (the owner, 4 slots of a generated model) and two members
 * with no model, A and B, as `ripple up` processes. Member A runs 16 agent loops, B 1 and the owner 1
 * (streamed chat completions through the official `openai` client, 32 tokens out each). What it shows:
 * B's and the owner's first-token p50 against their idle figure (each alone on the runner), and A's
 * throughput (and the runner's in all) against the runner's capacity (A's 16 loops alone); with fair
 * turns (the owner's own first, members by deficit round robin), with fair turns that keep a slot
 * from a member holding all the others (RIPPLE_FAIR_TURNS=reserve on the runner) and with one
 * first-come line (=off), fresh peers for each.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple, runRipple } from '../tests/e2e/ripple-process.ts'
import { startWith } from './conversation-affinity.ts'
import { median, ratio, round, sleep } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = { ...TINY_MODEL, blocks: 4, embedding: 256, heads: 4, feedForward: 512, name: 'bench share' }
const SLOTS = 4
const SWARM = 16
const MAX_TOKENS = 32
const IDLE_REQUESTS = 8
const CAPACITY_MS = 15_000
const CONTENDED_MS = 25_000

interface Done {
  ttftMs: number
  tokens: number
}

type Client = OpenAI

/** One streamed request: its first-token time and the tokens it got; null when refused (429/503). */
async function ask(client: Client, loop: string): Promise<Done | null> {
  const sentAt = performance.now()
  try {
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: `Agent ${loop}: ${'a tool result '.repeat(12)}` }],
      max_tokens: MAX_TOKENS,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    })
    let firstAt: number | null = null
    let tokens = 0
    for await (const chunk of stream) {
      if (firstAt === null && (chunk.choices[0]?.delta.content ?? '') !== '') firstAt = performance.now()
      tokens = chunk.usage?.completion_tokens ?? tokens
    }
    return { ttftMs: (firstAt ?? performance.now()) - sentAt, tokens }
  } catch {
    return null
  }
}

/** `loops` loops asking one after another until `untilMs` (performance.now()); what each got. */
async function loops(client: Client, name: string, count: number, untilMs: number) {
  const done: Done[] = []
  let refused = 0
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      while (performance.now() < untilMs) {
        const got = await ask(client, `${name}${i}`)
        if (got) done.push(got)
        else {
          refused += 1
          await sleep(200)
        }
      }
    }),
  )
  return { done, refused }
}

const tokensPerS = (done: readonly Done[], ms: number) =>
  round(done.reduce((n, d) => n + d.tokens, 0) / (ms / 1000))

/** How the runner gives its slots: RIPPLE_FAIR_TURNS on it (`on`: the default). */
type Turns = 'on' | 'reserve' | 'off'

async function share(turns: Turns) {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-share-'))
  const daemons: RunningRipple[] = []
  try {
    const network = await isolatedNetwork(root, 'bench-share')
    const start = async (name: string) => {
      const models = join(root, `${name}-models`)
      await mkdir(models, { recursive: true })
      if (name === 'owner') await writeLlamaModel(join(models, 'm.gguf'), MODEL)
      const dataDir = join(root, name)
      const env: Record<string, string> = name === 'owner' ? { RIPPLE_FAIR_TURNS: turns } : {}
      const daemon = await startWith(env, [
        ...['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0'],
        ...['--threads', '1', '--parallel', String(SLOTS), '--log-level', 'warn'],
      ])
      daemons.push(daemon)
      const url = /^ripple: api (\S+)$/m.exec(daemon.stdout())?.[1] ?? ''
      const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
      return { dataDir, client: new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 }) }
    }
    const [owner, a, b] = await Promise.all(['owner', 'a', 'b'].map(start))
    await runRipple(['models', 'load', 'm', '--data-dir', owner!.dataDir])
    for (const member of [a!, b!])
      for (const deadline = Date.now() + 60_000; ; ) {
        const m = (await member.client.models.list()).data.find((x) => x.id === 'm') as
          | { ripple?: { loaded_on: string[] } }
          | undefined
        if (m?.ripple?.loaded_on.length === 1) break
        if (Date.now() > deadline) throw new Error('a member never saw the runner with the model loaded')
        await sleep(300)
      }
    const idle = async (client: Client, name: string) => {
      const times: number[] = []
      for (let i = 0; i < IDLE_REQUESTS; i++) times.push((await ask(client, name))?.ttftMs ?? Number.NaN)
      return median(times.slice(1))
    }
    const idleOwner = await idle(owner!.client, 'owner')
    const idleB = await idle(b!.client, 'b')
    const capacity = await loops(a!.client, 'a', SWARM, performance.now() + CAPACITY_MS)
    const until = performance.now() + CONTENDED_MS
    const [swarm, single, own] = await Promise.all([
      loops(a!.client, 'a', SWARM, until),
      loops(b!.client, 'b', 1, until),
      loops(owner!.client, 'owner', 1, until),
    ])
    return {
      idleOwner,
      idleB,
      capacity: tokensPerS(capacity.done, CAPACITY_MS),
      owner: median(own.done.map((d) => d.ttftMs)),
      b: median(single.done.map((d) => d.ttftMs)),
      a: tokensPerS(swarm.done, CONTENDED_MS),
      total: tokensPerS([...swarm.done, ...single.done, ...own.done], CONTENDED_MS),
      requests: { a: swarm.done.length, b: single.done.length, owner: own.done.length },
      refused: swarm.refused + single.refused + own.refused,
    }
  } finally {
    for (const d of daemons) d.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.exited))
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {}
  const modes = [
    { turns: 'on', key: 'fair', label: 'fair (owner first, DRR)' },
    { turns: 'reserve', key: 'reserve', label: 'fair, a slot kept from A' },
    { turns: 'off', key: 'first_come', label: 'first come' },
  ] as const
  for (const { turns, key, label } of modes) {
    const r = await share(turns)
    rows.push({
      turns: label,
      'owner ttft p50 ms (idle)': `${round(r.owner)} (${round(r.idleOwner)})`,
      'owner x idle': ratio(r.owner, r.idleOwner),
      'B ttft p50 ms (idle)': `${round(r.b)} (${round(r.idleB)})`,
      'B x idle': ratio(r.b, r.idleB),
      'A tok/s': r.a,
      'all tok/s': r.total,
      'capacity tok/s': r.capacity,
      'A / capacity': ratio(r.a, r.capacity),
      'all / capacity': ratio(r.total, r.capacity),
      'requests A/B/owner': `${r.requests.a}/${r.requests.b}/${r.requests.owner}`,
      refused: r.refused,
    })
    Object.assign(figures, {
      [`${key}_owner_ttft_x_idle`]: ratio(r.owner, r.idleOwner),
      [`${key}_b_ttft_x_idle`]: ratio(r.b, r.idleB),
      [`${key}_a_share_of_capacity`]: ratio(r.a, r.capacity),
      [`${key}_all_share_of_capacity`]: ratio(r.total, r.capacity),
    })
  }
  return {
    name: 'fair-share',
    rows,
    figures,
    note:
      `One runner (${SLOTS} slots, a generated ${MODEL.blocks}-block model, 1 thread) and members A and B with no model, ` +
      `as ripple up processes: A runs ${SWARM} agent loops, B 1, the owner 1, for ${CONTENDED_MS / 1000} s (streamed, ` +
      `${MAX_TOKENS} tokens out); idle: each alone (${IDLE_REQUESTS} requests, first left out); capacity: A's ${SWARM} loops ` +
      `alone for ${CAPACITY_MS / 1000} s. Fair turns, fair turns keeping a slot from a member holding the others ` +
      `(RIPPLE_FAIR_TURNS=reserve) and one first-come line (=off), fresh peers each.`,
  }
}
