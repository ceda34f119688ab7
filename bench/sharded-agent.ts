/**
 * A coding agent against a sharded mesh (issue 57): N `ripple up` on loopback, a private mesh of
 * invites whose network file sets `record.holders` R below N, the model on the admin (p0, a scripted
 * model behind the real llama-server: tests/fixtures/scripted-llama-server.ts), and one Claude Code
 * tool-loop turn (`claude -p`: read a file, run a command, answer with both) on another peer, through a
 * proxy that keeps each answer's `x-ripple-task`. Then, per request: its Served record read from the
 * requester (its leaf accepted, its proof checked against the runner's batch), the runner's answered
 * record, and what a bystander says of it; the agent's session usage on its peer, and what the runner
 * signed about it (usage/1.0.0). Run: `npm run bench sharded-agent` (RIPPLE_BENCH_SHARDED_AGENT_N,
 * _R; default 10 and 3). More than 4 daemons: run it alone.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { PeersReply, ServedView, UsageView } from '../host/api/contract/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import {
  isolatedNetwork,
  REPO_ROOT,
  type RunningRipple,
  runRipple,
  startRipple,
} from '../tests/e2e/ripple-process.ts'
import { llamaCppTemplate } from '../tests/fixtures/gguf-gen/llama-cpp-templates.ts'
import { scriptedEngineHome } from '../tests/fixtures/scripted-engine.ts'
import { metric, metrics } from './daemon-store.ts'
import { round, sleep, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const N = Number(process.env.RIPPLE_BENCH_SHARDED_AGENT_N ?? 10)
const R = Number(process.env.RIPPLE_BENCH_SHARDED_AGENT_R ?? 3)
const MODEL = 'scripted-agent'
/** Tokens per context: Claude Code's prompt, written out by a byte-level vocabulary, is ~80k. */
const CONTEXT = 131_072
/** What the file the agent reads says, and what the command it runs prints: the answer must hold both. */
const SECRET = 'PELICAN-7731'
const PRODUCT = '6006'

interface Peer {
  name: string
  dataDir: string
  url: string
  token: string
  agent: string
  daemon: RunningRipple
}

/** An answer that went through the proxy: the request it was and the peer that ran it. */
interface Answered {
  request: string
  peer: string
}

/** A proxy in front of `target` keeping each answer's request and runner (the agent cannot say them). */
async function headerProxy(target: string, answered: Answered[]): Promise<{ url: string; server: Server }> {
  const to = new URL(target)
  const server = createServer((req, res) => {
    const headers = { ...req.headers, host: to.host }
    const up = httpRequest(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers },
      (reply) => {
        const request = reply.headers['x-ripple-task']
        if (typeof request === 'string')
          answered.push({ request, peer: String(reply.headers['x-ripple-peer'] ?? '') })
        res.writeHead(reply.statusCode ?? 502, reply.headers)
        reply.pipe(res)
      },
    )
    up.on('error', (err) => res.destroy(err))
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server }
}

/** One `claude -p` turn on `url` with `key`, its home and config in `root`, nothing leaving loopback. */
async function claudeTurn(root: string, work: string, url: string, key: string) {
  const home = join(root, 'claude-home')
  await mkdir(home, { recursive: true })
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    TMPDIR: tmpdir(),
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: key,
    ANTHROPIC_SMALL_FAST_MODEL: MODEL,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: MODEL,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  }
  const args = [
    ...['-p', 'What does notes.txt say? Then compute 78*77 with the shell.', '--model', MODEL],
    ...['--output-format', 'json', '--allowedTools', 'Read', 'Bash(echo:*)'],
  ]
  const claude = join(REPO_ROOT, 'node_modules', '.bin', 'claude')
  const { stdout } = await promisify(execFile)(claude, args, {
    cwd: work,
    env,
    timeout: 540_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    is_error?: boolean
    result?: string
    num_turns?: number
    session_id?: string
  }
}

export default async function run(): Promise<BenchReport> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-sharded-agent-'))
  const peers: Peer[] = []
  const started = Date.now()
  try {
    const work = join(root, 'work')
    await mkdir(work, { recursive: true })
    await writeFile(join(work, 'notes.txt'), `The secret word is ${SECRET}.\n`)
    const model = { ...TINY_MODEL, contextLength: CONTEXT, chatTemplate: await llamaCppTemplate('qwen3') }
    await mkdir(join(root, 'p0-models'), { recursive: true })
    await writeLlamaModel(join(root, 'p0-models', `${MODEL}.gguf`), model)
    // Inherited by every daemon; only p0 holds a model, the scripted one.
    process.env.RIPPLE_ENGINE_HOME = await scriptedEngineHome(root, {
      steps: [
        { call: { Read: { file_path: join(work, 'notes.txt') } } },
        { call: { Bash: { command: 'echo $((78*77))' } } },
        { answer: 'The file says: {{tool:0}} The command printed: {{tool:1}}' },
      ],
      log: join(root, 'engine-requests.jsonl'),
      models: [`${MODEL}.gguf`],
    })
    const network = await isolatedNetwork(root, 'bench-sharded-agent', {
      require_invite: true,
      record: { served_slot_ms: 1_000, holders: R },
    })
    const start = async (name: string, flags: string[]): Promise<Peer> => {
      const dataDir = join(root, name)
      const models = join(root, `${name}-models`)
      await mkdir(models, { recursive: true })
      const daemon = await startRipple(
        [
          ...['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0'],
          ...['--name', name, '--threads', '1', '--log-level', 'warn', ...flags],
        ],
        300_000,
      )
      const peer = {
        name,
        dataDir,
        daemon,
        url: /^ripple: api (\S+)$/m.exec(daemon.stdout())?.[1] ?? '',
        token: (await readFile(join(dataDir, 'api-token'), 'utf8')).trim(),
        agent: /^ripple: agent (\S+)$/m.exec(daemon.stdout())?.[1] ?? '',
      }
      peers.push(peer)
      return peer
    }
    const runner = await start('p0', ['--context-size', String(CONTEXT)])
    for (let n = 1; n < N; n++) {
      const out = join(root, `invite-${n}.json`)
      const made = await runRipple(['invite', 'create', '--data-dir', runner.dataDir, '--out', out])
      if (made.code !== 0) throw new Error(`invite ${n}: ${made.stderr}`)
    }
    // Joined a few at a time, as a team would.
    for (let i = 1; i < N; i += 4) {
      const batch = Array.from({ length: Math.min(4, N - i) }, (_, k) => i + k)
      await Promise.all(batch.map((n) => start(`p${n}`, ['--join-file', join(root, `invite-${n}.json`)])))
    }
    await waitFor(
      `every peer counts ${N} members`,
      async () => (await Promise.all(peers.map(metrics))).every((t) => metric(t, 'ripple_members') >= N),
      300_000,
    )
    const meshFormedS = (Date.now() - started) / 1000
    // The agent's peer and a bystander: neither holds the model.
    const asker = peers[Math.min(5, N - 2)]!
    const bystander = peers[Math.min(5, N - 2) + 1]!
    const api = async <T>(peer: Peer, path: string) => {
      const res = await fetch(`${peer.url}${path}`, { headers: { authorization: `Bearer ${peer.token}` } })
      return { status: res.status, body: (await res.json()) as T }
    }
    await waitFor(
      'the asker sees the runner with its model',
      async () => {
        const { body } = await api<PeersReply>(asker, '/api/peers')
        const seen = body.peers.find((p) => p.agent === runner.agent)
        return seen?.capability?.inference.models.some((m) => m.name === MODEL) ?? false
      },
      180_000,
    )
    const created = await runRipple([
      'keys',
      'create',
      '--data-dir',
      asker.dataDir,
      '--name',
      'agent',
      '--json',
    ])
    const key = (JSON.parse(created.stdout) as { key: string }).key
    const answered: Answered[] = []
    const proxy = await headerProxy(asker.url, answered)
    const turnStarted = Date.now()
    const result = await claudeTurn(root, work, proxy.url, key).finally(() => proxy.server.close())
    const turnS = (Date.now() - turnStarted) / 1000
    if (result.is_error !== false || !result.result?.includes(SECRET) || !result.result.includes(PRODUCT))
      throw new Error(`the agent's turn did not answer with both: ${JSON.stringify(result)}`)
    // A request's leaf is signed when its slot (1 s here) ends.
    const session = `claude-code:${result.session_id}`
    let sessionRequests = 0
    await waitFor(
      `${session} in the asker's usage`,
      async () => {
        const { body } = await api<UsageView>(asker, '/api/usage?by=session')
        sessionRequests = body.sessions?.find((s) => s.session === session)?.requests ?? 0
        return sessionRequests >= answered.length
      },
      60_000,
    )
    const rows: BenchReport['rows'] = []
    for (const { request, peer } of answered) {
      const onAsker = await api<ServedView>(asker, `/api/served/${request}`)
      const onRunner = await api<ServedView>(runner, `/api/served/${request}`)
      const elsewhere = await api<{ error?: { name?: string } }>(bystander, `/api/served/${request}`)
      const leaf = onAsker.body.served?.leaf
      rows.push({
        request: request.slice(0, 12),
        ran_on: peers.find((p) => p.agent === peer)?.name ?? peer,
        asker_record: onAsker.status,
        leaf_accepted: String(leaf?.accepted ?? '-'),
        proof_checked: String(onAsker.body.checks?.served?.valid ?? '-'),
        runner_answered: String(onRunner.body.checks?.answered?.valid ?? '-'),
        bystander: `${elsewhere.status} ${elsewhere.body.error?.name ?? ''}`.trim(),
      })
    }
    const { body: mesh } = await api<UsageView>(asker, '/api/usage?mesh=1')
    const signedByRunner = mesh.mesh?.peers.find((p) => p.agent === runner.agent)?.as_runner.requests ?? 0
    const reads = await Promise.all(
      peers.map(async (p) => metric(await metrics(p), 'ripple_record_reads_total')),
    )
    return {
      name: 'sharded-agent',
      note:
        `${N} \`ripple up\` on loopback, a private mesh of invites at record.holders ${R}, the model on p0; ` +
        `one Claude Code tool-loop turn on ${asker.name} (${result.num_turns} turns, its answer held the file ` +
        `and the command's output); per request, its record on the asker, the runner and bystander ` +
        `${bystander.name}; load ${loadavg()[0]?.toFixed(1)}`,
      rows,
      figures: {
        peers: N,
        record_holders: R,
        mesh_formed_s: round(meshFormedS),
        agent_turn_s: round(turnS),
        requests: answered.length,
        ran_on_runner: answered.filter((a) => a.peer === runner.agent).length,
        proven_on_asker: rows.filter((r) => r.proof_checked === 'true').length,
        session_requests: sessionRequests,
        signed_by_runner: signedByRunner,
        record_reads_asked: reads.reduce((a, b) => a + b, 0),
      },
    }
  } finally {
    await Promise.all(
      peers.map(async ({ daemon }) => {
        if (daemon.child.exitCode !== null) return
        daemon.child.kill('SIGTERM')
        const stopped = await Promise.race([daemon.exited.then(() => true), sleep(20_000).then(() => false)])
        if (!stopped) daemon.child.kill('SIGKILL')
      }),
    )
    await rm(root, { recursive: true, force: true })
  }
}
