/**
 * Sharing fairly (issue 47): one runner (the owner, `--parallel 4` of a generated model) and two
 * members with no model, A and B, as `ripple up` processes. Member A runs 16 agent loops, B 1 and the
 * owner 1 (streamed chat completions through the official `openai` client, 32 tokens out each). What
 * it shows: B's and the owner's first-token p50 against their idle figure (each alone on the runner),
 * and A's throughput (and the runner's in all) against the runner's capacity for A (A's 16 loops
 * alone), all in the same run; with fair turns and the default 2 held-back slots, fair turns with none
 * (`--held-back 0`) and one first-come line with none (RIPPLE_FAIR_TURNS=off: the behaviour before
 * issue 47), A's loops marked batch with none held back (issue 58: B's and the owner's requests park
 * A's generations), fresh peers for each (FAIR_SHARE_MODES=key,... runs only those); and the anchor: the loops straight to llama-server with the
 * runner's 6 slots, no Ripple, A's 4 (its share), which says what the engine itself gives the owner's
 * and B's requests under this load on this machine. FAIR_SHARE_RUNS rounds (default 3) of the four;
 * medians reported. Each party's loops run in a process of their own, as on their own machines.
 */

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple, runRipple } from '../tests/e2e/ripple-process.ts'
import { startLlamaServer } from './chat-paths.ts'
import { startWith } from './conversation-affinity.ts'
import { median, ratio, round, sleep } from './measure.ts'
import type { BenchReport } from './report.ts'
import { type Done, streamedAsk } from './streamed-ask.ts'

const MODEL = { ...TINY_MODEL, blocks: 4, embedding: 256, heads: 4, feedForward: 512, name: 'bench share' }
const SLOTS = 4
const SWARM = 16
const MAX_TOKENS = 32
const IDLE_REQUESTS = 8
const CAPACITY_MS = 15_000
/** The anchor's context per slot: the prompt and answer here take under 100 tokens. */
const ENGINE_CONTEXT = 2048
const CONTENDED_MS = 25_000
/** Time for the parties' processes to start before a window opens. */
const START_MS = 5_000

/**
 * `count` loops asking one after another from `fromMs` until `untilMs` (ms since the epoch), `max`
 * requests at most in all; what each got.
 */
async function loops(client: OpenAI, count: number, fromMs: number, untilMs: number, max: number) {
  const done: Done[] = []
  let refused = 0
  let asked = 0
  await sleep(Math.max(0, fromMs - Date.now()))
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (Date.now() < untilMs && asked++ < max) {
        const got = await streamedAsk(client, MAX_TOKENS)
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

interface Party {
  url: string
  token: string
  /** Its requests' `x-ripple-priority` (issue 58, point 2); none: the peer's own token's, interactive. */
  band?: string
}

/**
 * One party's loops in a process of its own, as on its own machine: its first tokens are not timed
 * behind another party's streams in one event loop. This file, run as `tsx bench/fair-share.ts loops
 * <api url> <token> <count> <from> <until> <max>`, prints what they got.
 */
async function partyLoops(party: Party, count: number, fromMs: number, untilMs: number, max = 1e9) {
  const args = [party.url, party.token, count, fromMs, untilMs, max, party.band ?? ''].map(String)
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'loops', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`a party's loops exited with ${code}`)
  const got = JSON.parse(out) as { done: { ttftMs: number | null; tokens: number }[]; refused: number }
  // JSON has no NaN: an answer without text came back as null.
  return {
    done: got.done.map((d) => ({ ttftMs: d.ttftMs ?? Number.NaN, tokens: d.tokens })),
    refused: got.refused,
  }
}

if (process.argv[2] === 'loops' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url = '', token = '', ...rest] = process.argv.slice(3)
  const [count = 1, fromMs = 0, untilMs = 0, max = 1] = rest.slice(0, 4).map(Number)
  const band = rest[4] ?? ''
  const headers = band === '' ? {} : { defaultHeaders: { 'x-ripple-priority': band } }
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0, ...headers })
  process.stdout.write(JSON.stringify(await loops(client, count, fromMs, untilMs, max)))
}

/** The p50 of first-token times (answers without text have none). */
const firstToken = (times: readonly number[]) => median(times.filter((t) => !Number.isNaN(t)))

const tokensPerS = (done: readonly Pick<Done, 'tokens'>[], ms: number) =>
  round(done.reduce((n, d) => n + d.tokens, 0) / (ms / 1000))

/** How the runner gives its slots: RIPPLE_FAIR_TURNS on it and its held-back slots. */
interface Mode {
  key: string
  label: string
  fair: boolean
  heldBack: number
  /** The anchor: the parties straight to llama-server, no Ripple. */
  engineAlone?: boolean
  /** A's loops marked batch (issue 58, point 2): B's and the owner's requests park its generations. */
  batchSwarm?: boolean
}

/**
 * What each party gets: the owner's and B's first tokens alone (idle), A's `loopsOfA` loops alone
 * (capacity), then all three at once (contended).
 */
async function contend(owner: Party, a: Party, b: Party, loopsOfA = SWARM) {
  const idle = async (party: Party) => {
    const { done } = await partyLoops(party, 1, Date.now(), Date.now() + 60_000, IDLE_REQUESTS)
    return firstToken(done.slice(1).map((d) => d.ttftMs))
  }
  const idleOwner = await idle(owner)
  const idleB = await idle(b)
  // Each window begins once every party's process is up.
  const window = (ms: number) => [Date.now() + START_MS, Date.now() + START_MS + ms] as const
  const capacity = await partyLoops(a, loopsOfA, ...window(CAPACITY_MS))
  const contended = window(CONTENDED_MS)
  const [swarm, single, own] = await Promise.all([
    partyLoops(a, loopsOfA, ...contended),
    partyLoops(b, 1, ...contended),
    partyLoops(owner, 1, ...contended),
  ])
  return {
    idleOwner,
    idleB,
    capacity: tokensPerS(capacity.done, CAPACITY_MS),
    owner: firstToken(own.done.map((d) => d.ttftMs)),
    b: firstToken(single.done.map((d) => d.ttftMs)),
    noText: [...swarm.done, ...single.done, ...own.done].filter((d) => Number.isNaN(d.ttftMs)).length,
    a: tokensPerS(swarm.done, CONTENDED_MS),
    total: tokensPerS([...swarm.done, ...single.done, ...own.done], CONTENDED_MS),
    requests: { a: swarm.done.length, b: single.done.length, owner: own.done.length },
    refused: swarm.refused + single.refused + own.refused,
    // The machine's 1-minute load at the end: this bench shares it with whatever else runs.
    load: round(loadavg()[0] ?? Number.NaN),
  }
}

async function share(mode: Mode) {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-share-'))
  const daemons: RunningRipple[] = []
  try {
    const network = await isolatedNetwork(root, 'bench-share')
    const start = async (name: string) => {
      const models = join(root, `${name}-models`)
      await mkdir(models, { recursive: true })
      if (name === 'owner') await writeLlamaModel(join(models, 'm.gguf'), MODEL)
      const dataDir = join(root, name)
      const env: Record<string, string> = name === 'owner' && !mode.fair ? { RIPPLE_FAIR_TURNS: 'off' } : {}
      const daemon = await startWith(env, [
        ...['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0'],
        ...['--threads', '1', '--parallel', String(SLOTS), '--held-back', String(mode.heldBack)],
        ...['--log-level', 'warn'],
      ])
      daemons.push(daemon)
      const url = /^ripple: api (\S+)$/m.exec(daemon.stdout())?.[1] ?? ''
      const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
      return {
        dataDir,
        url,
        token,
        client: new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 }),
      }
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
    return await contend(owner!, mode.batchSwarm ? { ...a!, band: 'batch' } : a!, b!)
  } finally {
    for (const d of daemons) d.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.exited))
    await rm(root, { recursive: true, force: true })
  }
}

/**
 * The anchor: the parties' loops straight to llama-server (the build and backend the daemon uses, the
 * same file and thread, the runner's slots and its held-back ones), no Ripple between, A's as many as
 * its share of slots: the sequences fair turns give the engine, so what the engine itself gives the
 * owner's and B's requests under this load on this machine, with a slot free for each.
 */
async function engineAlone(mode: Mode) {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-share-engine-'))
  try {
    const modelPath = join(root, 'm.gguf')
    await writeLlamaModel(modelPath, MODEL)
    const server = await startLlamaServer(modelPath, 1, SLOTS + mode.heldBack, ENGINE_CONTEXT)
    try {
      // A's loops as many as its share, as fair turns let through: the owner and B each find a slot.
      return await contend(server, server, server, SLOTS)
    } finally {
      await server.stop()
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

const ALL_MODES: readonly Mode[] = [
  { key: 'held_back', label: 'fair, 2 held back (default)', fair: true, heldBack: 2 },
  { key: 'batch_swarm', label: 'A batch, none held back (parks)', fair: true, heldBack: 0, batchSwarm: true },
  { key: 'fair', label: 'fair, none held back', fair: true, heldBack: 0 },
  { key: 'first_come', label: 'first come, none held back', fair: false, heldBack: 0 },
  {
    key: 'engine_alone',
    label: `llama-server alone, ${SLOTS + 2} slots, A ${SLOTS} loops (the anchor)`,
    fair: false,
    heldBack: 2,
    engineAlone: true,
  },
]

/** FAIR_SHARE_MODES (keys, comma-separated) runs only those. */
const MODES = ALL_MODES.filter(
  (m) => !process.env.FAIR_SHARE_MODES || process.env.FAIR_SHARE_MODES.split(',').includes(m.key),
)

/** The median of the runs and their range, as a table cell. */
const spread = (values: readonly number[]) =>
  values.length === 1
    ? String(values[0])
    : `${median(values)} (${Math.min(...values)}-${Math.max(...values)})`

export default async function run(): Promise<BenchReport> {
  const runs = Number(process.env.FAIR_SHARE_RUNS ?? 3)
  const results = new Map<string, Awaited<ReturnType<typeof share>>[]>(MODES.map((m) => [m.key, []]))
  // Rounds of the modes in turn, so a change in the machine's other load falls on each alike.
  for (let i = 0; i < runs; i++)
    for (const mode of MODES)
      results.get(mode.key)!.push(await (mode.engineAlone ? engineAlone(mode) : share(mode)))
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {}
  for (const { key, label } of MODES) {
    const rs = results.get(key)!
    const of = (f: (r: (typeof rs)[number]) => number) => rs.map((r) => round(f(r), 3))
    const cols = {
      owner_ttft_x_idle: of((r) => ratio(r.owner, r.idleOwner)),
      b_ttft_x_idle: of((r) => ratio(r.b, r.idleB)),
      a_share_of_capacity: of((r) => ratio(r.a, r.capacity)),
      all_share_of_capacity: of((r) => ratio(r.total, r.capacity)),
    }
    rows.push({
      turns: label,
      'owner ttft p50 ms': spread(of((r) => round(r.owner))),
      'owner idle ms': spread(of((r) => round(r.idleOwner))),
      'owner x idle': spread(cols.owner_ttft_x_idle),
      'B ttft p50 ms': spread(of((r) => round(r.b))),
      'B idle ms': spread(of((r) => round(r.idleB))),
      'B x idle': spread(cols.b_ttft_x_idle),
      'A tok/s': spread(of((r) => r.a)),
      'capacity tok/s': spread(of((r) => r.capacity)),
      'A / capacity': spread(cols.a_share_of_capacity),
      'all / capacity': spread(cols.all_share_of_capacity),
      'requests A/B/owner': rs.map((r) => `${r.requests.a}/${r.requests.b}/${r.requests.owner}`).join(' '),
      refused: rs.reduce((n, r) => n + r.refused, 0),
      'no text': rs.reduce((n, r) => n + r.noText, 0),
      load: rs.map((r) => r.load).join(' '),
    })
    for (const [name, values] of Object.entries(cols)) figures[`${key}_${name}`] = median(values)
  }
  return {
    name: 'fair-share',
    rows,
    figures,
    note:
      `One runner (--parallel ${SLOTS}, a generated ${MODEL.blocks}-block model, 1 thread) and members A and B with no model, ` +
      `as ripple up processes: A runs ${SWARM} agent loops, B 1, the owner 1, for ${CONTENDED_MS / 1000} s (streamed, ` +
      `${MAX_TOKENS} tokens out); idle: each alone (${IDLE_REQUESTS} requests, first left out); capacity: A's ${SWARM} loops ` +
      `alone for ${CAPACITY_MS / 1000} s, in the same run. Medians of ${runs} runs per mode (range in brackets), the modes ` +
      `in turn, fresh peers each. The anchor: the loops straight to llama-server (${SLOTS + 2} slots, 1 thread), no Ripple, A's ${SLOTS} (its share), so the owner and B each find a slot.`,
  }
}
