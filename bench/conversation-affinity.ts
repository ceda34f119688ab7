/**
 * Conversations stay home (issue 35): four agent loops at once, each resending its growing
 * conversation every turn (streamed, 8 tokens out, ~40 new words a turn, 9 turns) through the
 * official `openai` client against an asker peer with no model, to one runner and to two runners of
 * the same file (4 slots each, so there is always room elsewhere), the two runners with conversation
 * affinity and without it (RIPPLE_CONVERSATION_AFFINITY=off on the asker). What it shows: the
 * first-token time of turns that stayed on the runner holding their prompt cache against turns that
 * moved, and how many turns moved. Fresh peers for each round of each part, so no part finds another's prompts cached.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple, runRipple, startRipple } from '../tests/e2e/ripple-process.ts'
import { median, percentile, round, sleep } from './measure.ts'
import type { BenchReport } from './report.ts'

/** Big enough that evaluating a conversation again costs what a cache saves (the tiny model's is ~0). */
const MODEL = { ...TINY_MODEL, blocks: 4, embedding: 256, heads: 4, feedForward: 512, name: 'bench loops' }
const LOOPS = 4
const TURNS = 9
/** Each part runs this many times on fresh peers: moves are few, and their times vary. */
const ROUNDS = 3
const AFFINITY_ENV = 'RIPPLE_CONVERSATION_AFFINITY'

interface Turn {
  loop: number
  turn: number
  peer: string
  ttftMs: number
  /** 'first' (no runner yet), 'stayed' or 'moved'. */
  kind: 'first' | 'stayed' | 'moved'
}

/** Starts `ripple up` with `env` added to this process's (the child takes it at spawn). */
export async function startWith(env: Record<string, string>, args: string[]): Promise<RunningRipple> {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const)
  Object.assign(process.env, env)
  try {
    return await startRipple(args, 120_000)
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

async function agentLoops(runnerCount: number, affinity: boolean): Promise<Turn[]> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-affinity-'))
  const daemons: RunningRipple[] = []
  try {
    const network = await isolatedNetwork(root, 'bench-affinity')
    const start = async (name: string) => {
      const models = join(root, `${name}-models`)
      await mkdir(models, { recursive: true })
      if (name !== 'asker') await writeLlamaModel(join(models, 'm.gguf'), MODEL)
      const dataDir = join(root, name)
      const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
      const daemon = await startWith(name === 'asker' && !affinity ? { [AFFINITY_ENV]: 'off' } : {}, [
        ...flags,
        '--threads',
        '1',
        '--parallel',
        '4',
        '--log-level',
        'warn',
      ])
      daemons.push(daemon)
      const url = /^ripple: api (\S+)$/m.exec(daemon.stdout())?.[1] ?? ''
      return { dataDir, url, token: (await readFile(join(dataDir, 'api-token'), 'utf8')).trim() }
    }
    const names = ['asker', ...Array.from({ length: runnerCount }, (_, i) => `r${i + 1}`)]
    const [asker, ...runners] = await Promise.all(names.map(start))
    await Promise.all(runners.map((r) => runRipple(['models', 'load', 'm', '--data-dir', r.dataDir])))
    const openai = new OpenAI({ baseURL: `${asker!.url}/v1`, apiKey: asker!.token, maxRetries: 0 })
    for (const deadline = Date.now() + 60_000; ; ) {
      const m = (await openai.models.list()).data.find((x) => x.id === 'm') as
        | { ripple?: { loaded_on: string[] } }
        | undefined
      if (m?.ripple?.loaded_on.length === runnerCount) break
      if (Date.now() > deadline) throw new Error('the asker never saw the runners with the model loaded')
      await sleep(300)
    }
    const loop = async (n: number): Promise<Turn[]> => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [
        { role: 'system', content: `You are agent ${n}.` },
      ]
      const turns: Turn[] = []
      let last: string | null = null
      for (let turn = 0; turn < TURNS; turn++) {
        messages.push({
          role: 'user',
          content: `Agent ${n}, turn ${turn}: ${'words of a tool result '.repeat(8)}`,
        })
        const sentAt = performance.now()
        const { data: stream, response } = await openai.chat.completions
          .create({ model: 'm', messages, max_tokens: 8, temperature: 0, seed: n, stream: true })
          .withResponse()
        let text = ''
        let firstAt: number | null = null
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta.content ?? ''
          if (delta !== '' && firstAt === null) firstAt = performance.now()
          text += delta
        }
        const peer = response.headers.get('x-ripple-peer')
        turns.push({
          loop: n,
          turn,
          peer: peer ?? '',
          ttftMs: (firstAt ?? performance.now()) - sentAt,
          kind: last === null ? 'first' : peer === last ? 'stayed' : 'moved',
        })
        last = peer
        messages.push({ role: 'assistant', content: text })
      }
      return turns
    }
    return (await Promise.all(Array.from({ length: LOOPS }, (_, n) => loop(n)))).flat()
  } finally {
    for (const d of daemons) d.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.exited))
    await rm(root, { recursive: true, force: true })
  }
}

/** How the loops' last turns were spread over the runners, e.g. "3+1" (a runner left idle not shown). */
function split(turns: readonly Turn[]): string {
  const counts = new Map<string, number>()
  for (const t of turns) if (t.turn === TURNS - 1) counts.set(t.peer, (counts.get(t.peer) ?? 0) + 1)
  return [...counts.values()].sort((a, b) => b - a).join('+')
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {}
  const parts = [
    { runners: 1, affinity: true, key: 'one_runner' },
    { runners: 2, affinity: true, key: 'two_runners' },
    { runners: 2, affinity: false, key: 'two_runners_no_affinity' },
  ]
  for (const { runners, affinity, key } of parts) {
    const rounds: Turn[][] = []
    for (let i = 0; i < ROUNDS; i++) rounds.push(await agentLoops(runners, affinity))
    const turns = rounds.flat()
    const of = (kind: Turn['kind']) => turns.filter((t) => t.kind === kind).map((t) => t.ttftMs)
    const cell = (values: number[], stat: (v: number[]) => number) =>
      values.length > 0 ? round(stat(values)) : '-'
    const [stayed, moved] = [of('stayed'), of('moved')]
    rows.push({
      part: `${runners} runner${runners > 1 ? 's' : ''}, affinity ${affinity ? 'on' : 'off'}`,
      turns: turns.length,
      moved: moved.length,
      'loops per runner, last turn': rounds.map(split).join(' / '),
      [`moved per ${LOOPS * TURNS} turns`]: rounds
        .map((r) => r.filter((t) => t.kind === 'moved').length)
        .join(' / '),
      'first-token ms, first turn': cell(of('first'), median),
      'stayed: median': cell(stayed, median),
      'stayed: p90': cell(stayed, (v) => percentile(v, 90)),
      'moved: median': cell(moved, median),
      'moved: p90': cell(moved, (v) => percentile(v, 90)),
    })
    figures[`${key}_moved_turns`] = moved.length
    if (stayed.length > 0) figures[`${key}_stayed_ttft_ms`] = round(median(stayed))
    if (moved.length > 0) figures[`${key}_moved_ttft_ms`] = round(median(moved))
  }
  return {
    name: 'conversation-affinity',
    rows,
    figures,
    note:
      `${LOOPS} agent loops x ${TURNS} turns at once, ${ROUNDS} rounds on fresh peers, through an asker with no model (official openai ` +
      `client, streamed, 8 tokens out, ~40 new words a turn) to 1 and 2 runners of a generated ` +
      `${MODEL.blocks}-block model, 4 slots each; first-token times in ms over the turns after the first.`,
  }
}
