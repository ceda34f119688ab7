/**
 * The fastest healthy runner (issue 58): two runners of one model file, one ~10x slower than the
 * other, and an asker peer with no model sending 100 new conversations one after another (streamed,
 * through the official `openai` client; each conversation's first turn, so no home holds it). The
 * slow runner is the scripted llama-server stand-in (tests/fixtures/scripted-llama-server.ts): the
 * real engine evaluates each prompt, then the answer streams at 50 pieces a second, where the real
 * engine beside it decodes the generated model at hundreds of tokens a second. The stand-in is only
 * the speed difference; the daemons, the mesh, routing and the signed leaves are the product's.
 * What it shows: the share of conversations each runner gets, and each one's measured pace.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, type RunningRipple, runRipple } from '../tests/e2e/ripple-process.ts'
import { scriptedEngineHome } from '../tests/fixtures/scripted-engine.ts'
import { startWith } from './conversation-affinity.ts'
import { median, round, sleep } from './measure.ts'
import type { BenchReport } from './report.ts'

const CONVERSATIONS = 100
/** 12 pieces at the stand-in's 20 ms each. */
const SLOW_ANSWER = 'a slow runner answers at a slow pace, piece by piece, as it comes.'

interface Turn {
  runner: 'fast' | 'slow'
  ttftMs: number
  totalMs: number
}

async function conversations(): Promise<Turn[]> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-routing-speed-'))
  const daemons: RunningRipple[] = []
  try {
    const network = await isolatedNetwork(root, 'bench-routing-speed')
    const slowHome = await scriptedEngineHome(join(root, 'slow-engine'), {
      steps: [{ answer: SLOW_ANSWER }],
      log: join(root, 'slow-engine.jsonl'),
      models: ['m.gguf'],
    })
    const start = async (name: 'asker' | 'fast' | 'slow') => {
      const models = join(root, `${name}-models`)
      await mkdir(models, { recursive: true })
      if (name !== 'asker')
        await writeLlamaModel(join(models, 'm.gguf'), { ...TINY_MODEL, name: 'bench speed' })
      const dataDir = join(root, name)
      const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
      const env: Record<string, string> = name === 'slow' ? { RIPPLE_ENGINE_HOME: slowHome } : {}
      const daemon = await startWith(env, [
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
      return { name, dataDir, url, token: (await readFile(join(dataDir, 'api-token'), 'utf8')).trim() }
    }
    const [asker, ...runners] = await Promise.all((['asker', 'fast', 'slow'] as const).map(start))
    await Promise.all(runners.map((r) => runRipple(['models', 'load', 'm', '--data-dir', r.dataDir])))
    const openai = new OpenAI({ baseURL: `${asker!.url}/v1`, apiKey: asker!.token, maxRetries: 0 })
    for (const deadline = Date.now() + 60_000; ; ) {
      const m = (await openai.models.list()).data.find((x) => x.id === 'm') as
        | { ripple?: { loaded_on: string[] } }
        | undefined
      if (m?.ripple?.loaded_on.length === 2) break
      if (Date.now() > deadline) throw new Error('the asker never saw both runners with the model loaded')
      await sleep(300)
    }
    const turns: Turn[] = []
    for (let n = 0; n < CONVERSATIONS; n++) {
      const sentAt = performance.now()
      const stream = await openai.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: `Conversation ${n}: say something.` }],
        max_tokens: 16,
        temperature: 0,
        stream: true,
      })
      let text = ''
      let firstAt: number | null = null
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta.content ?? ''
        if (delta !== '' && firstAt === null) firstAt = performance.now()
        text += delta
      }
      const end = performance.now()
      turns.push({
        // Which runner answered: the slow one's text is the script's.
        runner: text === SLOW_ANSWER ? 'slow' : 'fast',
        ttftMs: (firstAt ?? end) - sentAt,
        totalMs: end - sentAt,
      })
    }
    return turns
  } finally {
    for (const d of daemons) d.child.kill('SIGTERM')
    await Promise.all(daemons.map((d) => d.exited))
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const turns = await conversations()
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {}
  for (const runner of ['fast', 'slow'] as const) {
    const mine = turns.filter((t) => t.runner === runner)
    const cell = (values: number[]) => (values.length > 0 ? round(median(values)) : '-')
    rows.push({
      runner,
      conversations: mine.length,
      share_pct: round((100 * mine.length) / turns.length),
      median_ttft_ms: cell(mine.map((t) => t.ttftMs)),
      median_answer_ms: cell(mine.map((t) => t.totalMs)),
    })
    figures[`${runner}_share_pct`] = round((100 * mine.length) / turns.length)
    if (mine.length > 0) figures[`${runner}_median_answer_ms`] = round(median(mine.map((t) => t.totalMs)))
  }
  return {
    name: 'routing-speed',
    note: `${CONVERSATIONS} new conversations one after another from an asker to two runners of one model (4 slots each), the slow one a scripted stand-in streaming at 50 pieces/s beside the real engine; the share each runner got`,
    rows,
    figures,
  }
}
