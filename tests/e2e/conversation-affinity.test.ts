/**
 * Conversations stay where their prompt cache is, on real processes: an asker with no model and two
 * runners with the same file loaded (4 slots each, so there is always room elsewhere). Four agent
 * loops at once resend their growing conversations every turn, streamed, through the official
 * clients against the asker; the runner of each turn is the `x-ripple-peer` header, which the
 * asker's signed Served record names too. Chat completions, Anthropic's Messages API (system and
 * messages) and the Responses API by `previous_response_id` each keep their conversations home.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServedView } from '../../host/api/contract/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { eventually, isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

type Peer = RunningRipple & { dataDir: string; agent: string; url: string; token: string }

const LOOPS = 4
const TURNS = 9
/** About 40 new words a turn, as a tool result or a user's next ask adds. */
const words = (n: number, turn: number) =>
  `Agent ${n}, turn ${turn}: ${'a few more words of context '.repeat(6)}`

let root: string
let asker: Peer
let runners: Peer[]
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-affinity-'))
  const network = await isolatedNetwork(root, 'e2e-affinity')
  const start = async (name: string): Promise<Peer> => {
    const dataDir = join(root, name)
    const models = join(root, `${name}-models`)
    await mkdir(models, { recursive: true })
    if (name !== 'asker') await writeLlamaModel(join(models, 'tiny.gguf'), TINY_MODEL)
    const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
    const daemon = await startRipple(
      [...flags, '--name', name, '--threads', '1', '--parallel', '4', '--log-level', 'warn'],
      60_000,
    )
    const line = (key: string) => new RegExp(`^ripple: ${key} (\\S+)$`, 'm').exec(daemon.stdout())?.[1] ?? ''
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
    return { ...daemon, dataDir, agent: line('agent'), url: line('api'), token }
  }
  const peers = await Promise.all(['asker', 'r1', 'r2'].map(start))
  asker = peers[0]!
  runners = peers.slice(1)
  await Promise.all(runners.map((r) => runRipple(['models', 'load', 'tiny', '--data-dir', r.dataDir])))
  openai = new OpenAI({ baseURL: `${asker.url}/v1`, apiKey: asker.token, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: asker.url, apiKey: asker.token, maxRetries: 0 })
  // The asker must see both runners with the model loaded before it routes.
  await eventually(async () => {
    const tiny = (await openai.models.list()).data.find((m) => m.id === 'tiny') as
      | { ripple?: { loaded_on: string[] } }
      | undefined
    expect(tiny?.ripple?.loaded_on).toHaveLength(2)
  }, 30_000)
}, 75_000)

afterAll(async () => {
  for (const p of [asker, ...(runners ?? [])]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

/** Turns that went to another runner than the turn before, over every loop. */
function switches(loops: readonly string[][]): number {
  for (const seen of loops) for (const peer of seen) expect(runners.map((r) => r.agent)).toContain(peer)
  return loops.reduce((sum, seen) => sum + seen.filter((p, i) => i > 0 && p !== seen[i - 1]).length, 0)
}

describe('a conversation goes back to the runner holding its prompt cache', () => {
  it('four chat completion loops at once, 9 turns each: at most 2 of 36 turns change runner', async () => {
    let last = { request: '', peer: '' }
    const loop = async (n: number): Promise<string[]> => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [
        { role: 'system', content: `You are agent ${n}.` },
      ]
      const seen: string[] = []
      for (let turn = 0; turn < TURNS; turn++) {
        messages.push({ role: 'user', content: words(n, turn) })
        const { data: stream, response } = await openai.chat.completions
          .create({ model: 'tiny', messages, max_tokens: 8, temperature: 0, seed: n, stream: true })
          .withResponse()
        let text = ''
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
        seen.push(response.headers.get('x-ripple-peer') ?? '')
        last = { request: response.headers.get('x-ripple-task') ?? '', peer: seen.at(-1)! }
        messages.push({ role: 'assistant', content: text })
      }
      return seen
    }
    const loops = await Promise.all(Array.from({ length: LOOPS }, (_, n) => loop(n)))
    expect(switches(loops), JSON.stringify(loops)).toBeLessThanOrEqual(2)
    // The header says what the signed record says: the Served record names the runner that answered.
    await eventually(async () => {
      const response = await fetch(`${asker.url}/api/served/${last.request}`, {
        headers: { authorization: `Bearer ${asker.token}` },
      })
      expect(((await response.json()) as ServedView).served?.leaf.runner).toBe(last.peer)
    }, 15_000)
  })

  it('four Anthropic Messages loops (system + messages) at once: at most 2 of 36 turns change runner', async () => {
    const loop = async (n: number): Promise<string[]> => {
      const messages: Anthropic.MessageParam[] = []
      const seen: string[] = []
      for (let turn = 0; turn < TURNS; turn++) {
        messages.push({ role: 'user', content: words(n, turn) })
        const { data: stream, response } = await anthropic.messages
          .create({ model: 'tiny', system: `You are agent ${n}.`, messages, max_tokens: 8, stream: true })
          .withResponse()
        let text = ''
        for await (const event of stream)
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
            text += event.delta.text
        seen.push(response.headers.get('x-ripple-peer') ?? '')
        messages.push({ role: 'assistant', content: text === '' ? '.' : text })
      }
      return seen
    }
    const loops = await Promise.all(Array.from({ length: LOOPS }, (_, n) => loop(n)))
    expect(switches(loops), JSON.stringify(loops)).toBeLessThanOrEqual(2)
  })

  it('continues a /v1/responses conversation by previous_response_id on the runner holding it', async () => {
    const loop = async (n: number): Promise<string[]> => {
      let previous: string | undefined
      const seen: string[] = []
      for (let turn = 0; turn < 5; turn++) {
        const { data, response } = await openai.responses
          .create({
            model: 'tiny',
            input: words(n, turn),
            max_output_tokens: 8,
            temperature: 0,
            ...(previous === undefined ? {} : { previous_response_id: previous }),
          })
          .withResponse()
        seen.push(response.headers.get('x-ripple-peer') ?? '')
        // The conversation grows: each turn's prompt holds every turn before it.
        expect(data.usage?.input_tokens).toBeGreaterThan(turn * 20)
        previous = data.id
      }
      return seen
    }
    const loops = await Promise.all(Array.from({ length: LOOPS }, (_, n) => loop(n)))
    expect(switches(loops), JSON.stringify(loops)).toBeLessThanOrEqual(1)
    const unknown = await openai.responses
      .create({ model: 'tiny', input: 'hi', previous_response_id: 'resp_not_here' })
      .catch((err: unknown) => err)
    expect(unknown).toBeInstanceOf(OpenAI.APIError)
    expect((unknown as InstanceType<typeof OpenAI.APIError>).status).toBe(404)
  })
})
