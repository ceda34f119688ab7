/**
 * Priority that preempts (issue 58, point 2): one runner (the owner, `--parallel 4` of a generated
 * model, none held back) and members A and B with no model, as `ripple up` processes. A runs a swarm of
 * agent loops marked `x-ripple-priority: batch`, B one loop marked interactive, the owner one loop (its
 * own: interactive). What it shows: the owner's and B's first-token p50 against their idle figure,
 * A's throughput against A alone, how many of A's generations were parked and resumed, and whether
 * every answer A got is whole (greedy, one prompt: each equals the answer alone, so a parked and
 * resumed answer that lost or repeated a piece shows); and the anchor: the same loops straight to
 * llama-server with the same slots, no Ripple (first come, first served). PRIORITY_SWARM (default 16)
 * and PRIORITY_MS (the contended window, default 25 s) size it; PRIORITY_RUNS rounds (default 1).
 */

import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple, runRipple } from '../tests/e2e/ripple-process.ts'
import { startLlamaServer } from './chat-paths.ts'
import { startWith } from './conversation-affinity.ts'
import { median, ratio, round, sleep } from './measure.ts'
import type { BenchReport } from './report.ts'
import { type Done, streamedAsk } from './streamed-ask.ts'

const MODEL = { ...TINY_MODEL, blocks: 4, embedding: 256, heads: 4, feedForward: 512, name: 'bench priority' }
const SLOTS = 4
const SWARM = Number(process.env.PRIORITY_SWARM ?? 16)
const CONTENDED_MS = Number(process.env.PRIORITY_MS ?? 25_000)
const CAPACITY_MS = Math.round(CONTENDED_MS * 0.6)
const MAX_TOKENS = 32
const IDLE_REQUESTS = 6
const ENGINE_CONTEXT = 2048
interface Party {
  url: string
  token: string
  band?: 'interactive' | 'agent' | 'batch'
}

function client(party: Party): OpenAI {
  return new OpenAI({
    baseURL: `${party.url}/v1`,
    apiKey: party.token,
    maxRetries: 0,
    ...(party.band && { defaultHeaders: { 'x-ripple-priority': party.band } }),
  })
}

/** `count` loops of `party` asking one after another until `untilMs`; what each got. */
async function loops(party: Party, count: number, untilMs: number, max = 1e9) {
  const api = client(party)
  const done: Done[] = []
  let failed = 0
  let asked = 0
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (Date.now() < untilMs && asked++ < max) {
        const got = await streamedAsk(api, MAX_TOKENS)
        if (got) done.push(got)
        else {
          failed += 1
          await sleep(200)
        }
      }
    }),
  )
  return { done, failed }
}

const firstToken = (done: readonly Done[]) =>
  median(done.map((d) => d.ttftMs).filter((t) => !Number.isNaN(t)))
const tokensPerS = (done: readonly Done[], ms: number) =>
  round(done.reduce((n, d) => n + d.tokens, 0) / (ms / 1000))

/** Idle figures, A alone, then all three at once; A's answers checked against the answer alone. */
async function contend(owner: Party, a: Party, b: Party) {
  const idle = async (party: Party) => {
    const { done } = await loops(party, 1, Date.now() + 60_000, IDLE_REQUESTS)
    return { ttft: firstToken(done.slice(1)), text: done[0]?.text ?? '' }
  }
  const idleOwner = await idle(owner)
  const idleB = await idle(b)
  const alone = (await idle(a)).text
  const capacity = await loops(a, SWARM, Date.now() + CAPACITY_MS)
  const until = Date.now() + CONTENDED_MS
  const [swarm, single, own] = await Promise.all([
    loops(a, SWARM, until),
    loops(b, 1, until),
    loops(owner, 1, until),
  ])
  for (const d of [...swarm.done, ...capacity.done].filter((d) => d.text !== alone))
    process.stderr.write(
      `not whole: ${JSON.stringify(d.text)} (${d.tokens})\nalone:     ${JSON.stringify(alone)}\n`,
    )
  return {
    idleOwner: idleOwner.ttft,
    idleB: idleB.ttft,
    capacity: tokensPerS(capacity.done, CAPACITY_MS),
    owner: firstToken(own.done),
    b: firstToken(single.done),
    a: tokensPerS(swarm.done, CONTENDED_MS),
    requests: { a: swarm.done.length, b: single.done.length, owner: own.done.length },
    // Every answer of A is the answer alone: none lost, cut or repeated by a park.
    notWhole: [...swarm.done, ...capacity.done].filter((d) => d.text !== alone).length,
    failed: swarm.failed + single.failed + own.failed,
    load: round(loadavg()[0] ?? Number.NaN),
  }
}

async function withPriority() {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-priority-'))
  const daemons: RunningRipple[] = []
  try {
    const network = await isolatedNetwork(root, 'bench-priority')
    const start = async (name: string) => {
      const models = join(root, `${name}-models`)
      await mkdir(models, { recursive: true })
      if (name === 'owner') await writeLlamaModel(join(models, 'm.gguf'), MODEL)
      const dataDir = join(root, name)
      const daemon = await startWith({}, [
        ...['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0'],
        ...['--threads', '1', '--parallel', String(SLOTS), '--held-back', '0'],
        // The runner's parks are counted from its debug lines.
        ...['--log-level', name === 'owner' ? 'debug' : 'warn'],
      ])
      daemons.push(daemon)
      const url = /^ripple: api (\S+)$/m.exec(daemon.stdout())?.[1] ?? ''
      const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
      return { dataDir, url, token, daemon }
    }
    const [owner, a, b] = await Promise.all(['owner', 'a', 'b'].map(start))
    await runRipple(['models', 'load', 'm', '--data-dir', owner!.dataDir])
    for (const member of [a!, b!])
      for (const deadline = Date.now() + 60_000; ; ) {
        const m = (await client(member).models.list()).data.find((x) => x.id === 'm') as
          | { ripple?: { loaded_on: string[] } }
          | undefined
        if (m?.ripple?.loaded_on.length === 1) break
        if (Date.now() > deadline) throw new Error('a member never saw the runner with the model loaded')
        await sleep(300)
      }
    const result = await contend(owner!, { ...a!, band: 'batch' }, { ...b!, band: 'interactive' })
    const log = owner!.daemon.stdout() + owner!.daemon.stderr()
    return {
      ...result,
      parked: log.split('"generation parked"').length - 1,
      rerun: log.split('resumes by re-running').length - 1,
      why: rerunsWhy(log),
      parkMs: median([...log.matchAll(/"park_ms":(\d+)/g)].map((m) => Number(m[1]))),
    }
  } finally {
    for (const d of daemons) d.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.exited))
    await rm(root, { recursive: true, force: true })
  }
}

/** The runner's re-runs by why (its log lines' `why`), as `why: count; ...`. */
function rerunsWhy(log: string): string {
  const counts = new Map<string, number>()
  for (const line of log.split('\n').filter((l) => l.includes('resumes by re-running'))) {
    const sent = Number(/"tokens":(\d+)/.exec(line)?.[1] ?? 0) > 0
    const why = `${/"why":"([^"]*)"/.exec(line)?.[1] ?? '?'}${sent ? '' : ' (none sent)'}`
    counts.set(why, (counts.get(why) ?? 0) + 1)
  }
  return [...counts].map(([why, n]) => `${why}: ${n}`).join('; ')
}

/** The anchor: the same loops straight to llama-server with the runner's slots, no Ripple. */
async function engineAlone() {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-priority-engine-'))
  try {
    const modelPath = join(root, 'm.gguf')
    await writeLlamaModel(modelPath, MODEL)
    const server = await startLlamaServer(modelPath, 1, SLOTS, ENGINE_CONTEXT)
    try {
      return { ...(await contend(server, server, server)), parked: 0, rerun: 0, why: '', parkMs: Number.NaN }
    } finally {
      await server.stop()
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const runs = Number(process.env.PRIORITY_RUNS ?? 1)
  const modes = [
    { key: 'priority', label: 'Ripple: A batch, B interactive, owner', run: withPriority },
    { key: 'engine_alone', label: `llama-server alone, ${SLOTS} slots (first come)`, run: engineAlone },
  ]
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {}
  const results = new Map(modes.map((m) => [m.key, [] as Awaited<ReturnType<typeof withPriority>>[]]))
  for (let i = 0; i < runs; i++) for (const mode of modes) results.get(mode.key)!.push(await mode.run())
  for (const { key, label } of modes) {
    const rs = results.get(key)!
    const of = (f: (r: (typeof rs)[number]) => number) => median(rs.map((r) => round(f(r), 3)))
    const cols = {
      owner_ttft_x_idle: of((r) => ratio(r.owner, r.idleOwner)),
      b_ttft_x_idle: of((r) => ratio(r.b, r.idleB)),
      a_share_of_alone: of((r) => ratio(r.a, r.capacity)),
    }
    rows.push({
      runner: label,
      'owner ttft p50 ms': of((r) => round(r.owner)),
      'owner idle ms': of((r) => round(r.idleOwner)),
      'owner x idle': cols.owner_ttft_x_idle,
      'B ttft p50 ms': of((r) => round(r.b)),
      'B idle ms': of((r) => round(r.idleB)),
      'B x idle': cols.b_ttft_x_idle,
      'A tok/s': of((r) => r.a),
      'A alone tok/s': of((r) => r.capacity),
      'A / alone': cols.a_share_of_alone,
      'requests A/B/owner': rs.map((r) => `${r.requests.a}/${r.requests.b}/${r.requests.owner}`).join(' '),
      parked: rs.reduce((n, r) => n + r.parked, 0),
      're-run': rs.reduce((n, r) => n + r.rerun, 0),
      'park ms p50': rs.map((r) => r.parkMs).join(' '),
      're-run why': rs
        .map((r) => r.why)
        .filter(Boolean)
        .join(' | '),
      'A answers not whole': rs.reduce((n, r) => n + r.notWhole, 0),
      failed: rs.reduce((n, r) => n + r.failed, 0),
      load: rs.map((r) => r.load).join(' '),
    })
    for (const [name, value] of Object.entries(cols)) figures[`${key}_${name}`] = value
    figures[`${key}_not_whole`] = rs.reduce((n, r) => n + r.notWhole, 0)
  }
  return {
    name: 'priority',
    rows,
    figures,
    note:
      `One runner (--parallel ${SLOTS}, none held back, a generated ${MODEL.blocks}-block model, 1 thread) and members A ` +
      `and B with no model, as ripple up processes: A runs ${SWARM} loops marked batch, B 1 marked interactive, the ` +
      `owner 1, for ${CONTENDED_MS / 1000} s (streamed, ${MAX_TOKENS} tokens out, greedy, one prompt); idle: each alone ` +
      `(${IDLE_REQUESTS} requests, first left out); A alone: its ${SWARM} loops for ${CAPACITY_MS / 1000} s. Parked: ` +
      `A's generations the runner parked for B's or the owner's; not whole: A's answers that differ from its answer ` +
      `alone. The anchor: the same loops straight to llama-server (${SLOTS} slots, 1 thread, first come). Medians of ${runs} run(s).`,
  }
}
