/**
 * Models come and go; conversations stay home (issue 35). Two parts:
 * - Agent loops: four loops at once, each resending its growing conversation every turn (streamed,
 *   8 tokens out, ~40 new words a turn, 9 turns) through an asker peer with no model, to one runner and
 *   to two runners of the same file: the first-token time of turns that stayed on the runner holding
 *   their prompt cache against turns that moved, and how many turns moved.
 * - Room on demand: the time to load a model when the memory limit first needs the least recently used
 *   idle model unloaded, against the same load with room to spare (one ModelManager, this process).
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { FileHashCache } from '../host/inference/file-hash-cache.ts'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { modelMemoryBytes } from '../host/inference/memory-fit.ts'
import { ModelManager } from '../host/inference/model-manager.ts'
import { silentLogger } from '../host/log/logger.ts'
import { isolatedNetwork, type RunningRipple, runRipple, startRipple } from '../tests/e2e/ripple-process.ts'
import { median, round, sleep } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = { ...TINY_MODEL, blocks: 4, embedding: 256, heads: 4, feedForward: 512, name: 'bench loops' }
const LOOPS = 4
const TURNS = 9

interface Turn {
  ttftMs: number
  /** 'first' (no runner yet), 'stayed' or 'moved'. */
  kind: 'first' | 'stayed' | 'moved'
}

async function agentLoops(runnerCount: number): Promise<Turn[]> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-loops-'))
  const daemons: RunningRipple[] = []
  try {
    const network = await isolatedNetwork(root, 'bench-loops')
    const start = async (name: string) => {
      const models = join(root, `${name}-models`)
      await mkdir(models, { recursive: true })
      if (name !== 'asker') await writeLlamaModel(join(models, 'm.gguf'), MODEL)
      const dataDir = join(root, name)
      const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
      const daemon = await startRipple(
        [...flags, '--threads', '1', '--parallel', '4', '--log-level', 'warn'],
        120_000,
      )
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

/** Load times (ms) of a model with room to spare, and of the same load after evicting an idle one. */
async function evictionLoads(): Promise<{ plain: number; evicting: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'ripple-bench-room-'))
  try {
    await writeLlamaModel(join(dir, 'coder.gguf'), { ...MODEL, seed: 1 })
    await writeLlamaModel(join(dir, 'chat.gguf'), { ...MODEL, seed: 2 })
    const init = {
      modelsDir: dir,
      hashCache: new FileHashCache(null),
      threads: 1,
      contextSize: 512,
      logger: silentLogger(),
    }
    const need = modelMemoryBytes((await new ModelManager(init).list()).models[0]!, 512)
    const roomy = new ModelManager({ ...init, memoryLimitBytes: need * 3 })
    const tight = new ModelManager({ ...init, memoryLimitBytes: Math.round(need * 1.5) })
    const plain: number[] = []
    const evicting: number[] = []
    try {
      for (let i = 0; i < 3; i++) {
        await roomy.load('coder')
        let t = performance.now()
        await roomy.load('chat')
        plain.push(performance.now() - t)
        await roomy.unload('chat')
        await roomy.unload('coder')
        await tight.load('coder')
        t = performance.now()
        await tight.load('chat')
        evicting.push(performance.now() - t)
        await tight.unload('chat')
      }
    } finally {
      await roomy.stop()
      await tight.stop()
    }
    return { plain: median(plain), evicting: median(evicting) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {}
  for (const runners of [1, 2]) {
    const turns = await agentLoops(runners)
    const of = (kind: Turn['kind']) => turns.filter((t) => t.kind === kind).map((t) => t.ttftMs)
    const moved = of('moved')
    rows.push({
      part: `agent loops, ${runners} runner${runners > 1 ? 's' : ''}`,
      turns: turns.length,
      moved: moved.length,
      'first-token ms, first turn': round(median(of('first'))),
      'first-token ms, stayed': round(median(of('stayed'))),
      'first-token ms, moved': moved.length > 0 ? round(median(moved)) : '-',
    })
    figures[`runners_${runners}_moved_turns`] = moved.length
    figures[`runners_${runners}_stayed_ttft_ms`] = round(median(of('stayed')))
  }
  const loads = await evictionLoads()
  rows.push({ part: 'load with room to spare', 'load ms': round(loads.plain) })
  rows.push({ part: 'load after evicting the LRU idle model', 'load ms': round(loads.evicting) })
  figures.load_ms = round(loads.plain)
  figures.load_evicting_ms = round(loads.evicting)
  return {
    name: 'models-come-and-go',
    rows,
    figures,
    note:
      `${LOOPS} agent loops x ${TURNS} turns at once through an asker to 1 and 2 runners (generated ` +
      `${MODEL.blocks}-block model, 4 slots each, streamed, 8 tokens out); medians. Loads: one ModelManager, ` +
      'a limit that holds one model (evicting) or three (room), 3 runs each, medians.',
  }
}
