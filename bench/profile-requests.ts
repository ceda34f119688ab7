/**
 * Where a one-token request's CPU goes, by function: a requester and a runner (`ripple up`, the tiny
 * generated model on the runner) on loopback, each started with the inspector on; after a warm-up,
 * the V8 sampling profiler runs in both over a load of one-token chat completions to the requester's
 * /v1 (8 at once) and the second after it (the window's record), and the top functions by self time
 * are printed per process with the CPU per request read from /proc. PROFILE_PEERS=1 profiles one peer
 * holding the model and asked directly (the request-rate bench's path). Not a benchmark `npm run bench`
 * runs: `npx tsx bench/profile-requests.ts [requests] [top]`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import WebSocket from 'ws'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, runRipple } from '../tests/e2e/ripple-process.ts'
import { requestRate, startBenchPeer } from './chat-paths.ts'
import { ownCpuMs, round, sleep, waitFor } from './measure.ts'

const REQUESTS = Number(process.argv[2] ?? 400)
const TOP = Number(process.argv[3] ?? 15)
const ONE_PEER = process.env.PROFILE_PEERS === '1'
const MODEL = 'tiny'
const ENGINE = { threads: 1, slots: 8, contextSize: 2048 }
const MESSAGES = [{ role: 'user' as const, content: 'Say one word.' }]

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
}

/** A Chrome DevTools Protocol session on a process's inspector. */
async function inspector(
  stderr: () => string,
): Promise<{ call: (method: string, params?: object) => Promise<unknown>; close(): void }> {
  let url: string | undefined
  await waitFor('the inspector URL', () => {
    url = /Debugger listening on (ws:\S+)/.exec(stderr())?.[1]
    return url !== undefined
  })
  const ws = new WebSocket(url!)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const pending = new Map<number, (result: unknown) => void>()
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown }
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result)
  })
  let id = 0
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        id += 1
        pending.set(id, resolve)
        ws.send(JSON.stringify({ id, method, params }))
      }),
    close: () => ws.close(),
  }
}

const frameName = (frame: CallFrame) =>
  `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules\/|host\/|zomes-bindings\/)/, '$1')}:${frame.lineNumber + 1}`

/**
 * Self time (ms) by function, `(idle)` left out, highest first; and the inclusive time of Ripple's own
 * functions (host/, zomes-bindings/), each counted once per sample however deep it recurses.
 */
function times(profile: Profile): {
  self: { name: string; ms: number }[]
  own: { name: string; ms: number }[]
} {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const own = new Map<string, number>()
  for (const [i, nodeId] of profile.samples.entries()) {
    const frame = frames.get(nodeId)!
    if (frame.functionName === '(idle)') continue
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    self.set(frameName(frame), (self.get(frameName(frame)) ?? 0) + ms)
    const seen = new Set<string>()
    for (let id: number | undefined = nodeId; id !== undefined; id = parent.get(id)) {
      const f = frames.get(id)!
      if (!/\/(host|zomes-bindings)\//.test(f.url) || f.url.includes('node_modules')) continue
      seen.add(frameName(f))
    }
    for (const name of seen) own.set(name, (own.get(name) ?? 0) + ms)
  }
  const sorted = (m: Map<string, number>) =>
    [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms)
  return { self: sorted(self), own: sorted(own) }
}

const root = await mkdtemp(join(tmpdir(), 'ripple-profile-'))
const daemons: Awaited<ReturnType<typeof startBenchPeer>>[] = []
try {
  const network = await isolatedNetwork(root, 'profile')
  const models = join(root, 'runner-models')
  await mkdir(models, { recursive: true })
  await writeLlamaModel(join(models, `${MODEL}.gguf`), TINY_MODEL)
  process.env.NODE_OPTIONS = '--inspect=127.0.0.1:0'
  const runner = await startBenchPeer(root, network, 'runner', models, ENGINE)
  daemons.push(runner)
  const requester = ONE_PEER
    ? runner
    : await startBenchPeer(root, network, 'requester', join(root, 'm'), ENGINE)
  if (!ONE_PEER) daemons.push(requester)
  delete process.env.NODE_OPTIONS
  const loaded = await runRipple(['models', 'load', MODEL, '--data-dir', join(root, 'runner')], {
    timeoutMs: 120_000,
  })
  if (loaded.code !== 0) throw new Error(`models load failed: ${loaded.stderr}`)
  const openai = new OpenAI({ baseURL: `${requester.url}/v1`, apiKey: requester.token, maxRetries: 0 })
  await waitFor(
    'the model loaded on the runner',
    async () => {
      const m = (await openai.models.list()).data.find((x) => x.id === MODEL) as
        | { ripple?: { loaded_on: string[] } }
        | undefined
      return (m?.ripple?.loaded_on.length ?? 0) > 0
    },
    120_000,
  )
  const oneToken = () =>
    openai.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 1, temperature: 0 })
  await requestRate(oneToken, 64, 8)
  await sleep(3000)
  const sessions = await Promise.all(daemons.map((d) => inspector(d.daemon.stderr)))
  for (const { call } of sessions) {
    await call('Profiler.enable')
    await call('Profiler.setSamplingInterval', { interval: 200 })
    await call('Profiler.start')
  }
  const cpuBefore = await Promise.all(daemons.map((d) => ownCpuMs(d.daemon.child.pid ?? 0)))
  const rps = await requestRate(oneToken, REQUESTS, 8)
  await sleep(1500)
  const cpuAfter = await Promise.all(daemons.map((d) => ownCpuMs(d.daemon.child.pid ?? 0)))
  const profiles = await Promise.all(
    sessions.map(async ({ call }) => ((await call('Profiler.stop')) as { profile: Profile }).profile),
  )
  for (const s of sessions) s.close()
  console.log(`${REQUESTS} one-token requests, 8 at once: ${round(rps)}/s`)
  for (const [i, profile] of profiles.entries()) {
    const role = ONE_PEER ? 'peer (requester and runner)' : i === 0 ? 'runner' : 'requester'
    const cpu = (cpuAfter[i]! - cpuBefore[i]!) / REQUESTS
    const { self, own } = times(profile)
    const total = self.reduce((s, t) => s + t.ms, 0)
    console.log(
      `\n## ${role}: ${round(cpu, 2)} ms CPU/request (/proc), ${round(total / REQUESTS, 2)} ms sampled`,
    )
    console.log('| self ms/req | % | function |\n| --- | --- | --- |')
    for (const t of self.slice(0, TOP))
      console.log(`| ${round(t.ms / REQUESTS, 3)} | ${round((100 * t.ms) / total)} | ${t.name} |`)
    console.log(`\nRipple's own functions, inclusive:\n| ms/req | % | function |\n| --- | --- | --- |`)
    for (const t of own.slice(0, TOP * 2))
      console.log(`| ${round(t.ms / REQUESTS, 3)} | ${round((100 * t.ms) / total)} | ${t.name} |`)
  }
} finally {
  for (const d of daemons) if (d.daemon.child.exitCode === null) d.daemon.child.kill('SIGTERM')
  await Promise.all(daemons.map((d) => d.daemon.exited))
  await rm(root, { recursive: true, force: true })
}
