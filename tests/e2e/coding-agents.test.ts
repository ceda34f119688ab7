/**
 * The agents people run, run as people run them, against `ripple up` on a private mesh with a key:
 * Claude Code (`claude -p`, `ANTHROPIC_BASE_URL`) on `/v1/messages` and Codex CLI (`codex exec`, a
 * provider with `wire_api = "responses"`) on `/v1/responses`, both from npm (dev dependencies). Their
 * home directories and config are in the test's temp dir, telemetry, error reports and updates off;
 * nothing leaves the machine (the only address they are given is the peer's on loopback).
 *
 * Each (a) completes a turn on a generated model (Qwen 3's template from llama.cpp's collection)
 * through the real engine, with the agent's whole prompt (its system prompt and every tool) evaluated,
 * and (b) runs a full tool loop: Ripple hands the agent a call in its own dialect (read a file of the
 * work directory, then run a command; for Codex then its free-form `apply_patch`, the `custom` tool
 * it gives a model named `gpt-5.5`), the agent runs it and sends the result back, and it ends with
 * an answer Ripple served that holds what the file and the command said. A generated model never
 * chooses to call a tool, so (b) runs on a scripted model: a stand-in for the model's choices only
 * (tests/fixtures/scripted-llama-server.ts), behind the real llama-server, which renders each request
 * with the model's template; the requests, the mesh and the translation both ways are the product's.
 * On the same scripted model, the official `openai` and `@anthropic-ai/sdk` clients read a call that
 * streams in pieces as it is written, on each route.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { llamaCppTemplate } from '../fixtures/gguf-gen/llama-cpp-templates.ts'
import { type EngineScript, scriptedEngineHome } from '../fixtures/scripted-engine.ts'
import { REPO_ROOT, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

const CLAUDE = join(REPO_ROOT, 'node_modules', '.bin', 'claude')
const CODEX = join(REPO_ROOT, 'node_modules', '.bin', 'codex')
/** What the file the agent reads says, and what the command it runs prints: the answer must hold both. */
const SECRET = 'PELICAN-7731'
const PRODUCT = '6006'
/** What Codex's apply_patch writes when the scripted model calls it. */
const PATCH = '*** Begin Patch\n*** Add File: greeting.txt\n+Hello from the mesh\n*** End Patch\n'
/** Tokens per context: Claude Code's prompt, written out by a byte-level vocabulary, is ~80k. */
const CONTEXT = 131_072

let root: string
let work: string
let peer: RunningRipple
let url: string
let key: string
let script: EngineScript

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-agents-'))
  work = join(root, 'work')
  const models = join(root, 'models')
  await mkdir(work, { recursive: true })
  await mkdir(models, { recursive: true })
  await writeFile(join(work, 'notes.txt'), `The secret word is ${SECRET}.\n`)
  const model = { ...TINY_MODEL, contextLength: CONTEXT, chatTemplate: await llamaCppTemplate('qwen3') }
  await writeLlamaModel(join(models, 'qwen3-tiny.gguf'), model)
  await writeLlamaModel(join(models, 'scripted-agent.gguf'), model)
  // Named as a model Codex gives its free-form patch tool to (a `custom` tool, with a lark grammar).
  await writeLlamaModel(join(models, 'gpt-5.5.gguf'), model)
  script = {
    steps: [
      {
        call: {
          Read: { file_path: join(work, 'notes.txt') },
          exec_command: { cmd: 'cat notes.txt' },
        },
      },
      { call: { Bash: { command: 'echo $((78*77))' }, exec_command: { cmd: 'echo $((78*77))' } } },
      // Codex's free-form patch tool (a `custom` tool): the call comes back as a custom_tool_call.
      { call: { apply_patch: { input: PATCH } } },
      { answer: 'The file says: {{tool:0}} The command printed: {{tool:1}}' },
    ],
    log: join(root, 'engine-requests.jsonl'),
    models: ['scripted-agent.gguf', 'gpt-5.5.gguf'],
    cut: ['broken_read'],
  }
  process.env.RIPPLE_ENGINE_HOME = await scriptedEngineHome(root, script)
  const dataDir = join(root, 'data')
  // The default `local` network on a fresh data dir: a private mesh of its own.
  peer = await startRipple(
    [
      '--data-dir',
      dataDir,
      '--models-dir',
      models,
      '--api-port',
      '0',
      '--name',
      'agents',
      '--context-size',
      String(CONTEXT),
      '--log-level',
      'warn',
    ],
    120_000,
  )
  expect(peer.stdout()).toMatch(/private mesh created/)
  url = /^ripple: api (\S+)$/m.exec(peer.stdout())?.[1] ?? ''
  const created = await runRipple(['keys', 'create', '--data-dir', dataDir, '--name', 'agents', '--json'])
  expect(created.code, created.stderr).toBe(0)
  key = (JSON.parse(created.stdout) as { key: string }).key
}, 180_000)

afterAll(async () => {
  if (peer && peer.child.exitCode === null) peer.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

/** An environment with nothing of this machine's but PATH: the agent's own home, config and key. */
function agentEnv(home: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    TMPDIR: tmpdir(),
    ...extra,
  }
}

async function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  try {
    const running = promisify(execFile)(command, args, {
      cwd: work,
      env,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    })
    // As from a terminal with nothing piped: Codex reads a piped standard input to its end.
    running.child.stdin?.end()
    const { stdout, stderr } = await running
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

interface EngineRequest {
  roles: string[]
  tools: string[]
  tool_results: string[]
  prompt_tokens: number
}

async function engineRequests(): Promise<EngineRequest[]> {
  const text = await readFile(script.log, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as EngineRequest)
}

describe('Claude Code', { timeout: 600_000 }, () => {
  const claude = async (model: string, prompt: string, extra: string[] = []) => {
    const home = join(root, `claude-home-${model}`)
    await mkdir(home, { recursive: true })
    const env = agentEnv(home, {
      ANTHROPIC_BASE_URL: url,
      ANTHROPIC_API_KEY: key,
      ANTHROPIC_SMALL_FAST_MODEL: model,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
    })
    const args = ['-p', prompt, '--model', model, '--output-format', 'json', ...extra]
    const res = await run(CLAUDE, args, env, 540_000)
    const result = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}') as {
      is_error?: boolean
      result?: string
      num_turns?: number
      session_id?: string
      usage?: { input_tokens?: number; cache_read_input_tokens?: number; output_tokens?: number }
    }
    return { ...res, result }
  }

  it('completes a turn on a generated model through the real engine, its whole prompt evaluated', async () => {
    const { code, stderr, stdout, result } = await claude('qwen3-tiny', 'Say hello.')
    expect(code, `${stderr}\n${stdout}`).toBe(0)
    expect(result.is_error, stdout).toBe(false)
    expect(typeof result.result).toBe('string')
    // Its system prompt and ~20 tools reached the model: tens of thousands of (byte) tokens.
    const prompt = (result.usage?.input_tokens ?? 0) + (result.usage?.cache_read_input_tokens ?? 0)
    expect(prompt).toBeGreaterThan(20_000)
    expect(result.usage?.output_tokens ?? 0).toBeGreaterThan(0)
  })

  it('runs a full tool loop: reads a file, runs a command, answers with both', async () => {
    const before = (await engineRequests()).length
    const { code, stderr, stdout, result } = await claude(
      'scripted-agent',
      'What does notes.txt say? Then compute 78*77 with the shell.',
      ['--allowedTools', 'Read', 'Bash(echo:*)'],
    )
    expect(code, `${stderr}\n${stdout}`).toBe(0)
    expect(result.is_error, stdout).toBe(false)
    expect(result.result).toContain(SECRET)
    expect(result.result).toContain(PRODUCT)
    expect(result.num_turns).toBeGreaterThanOrEqual(3)
    // What reached the engine: Claude Code's tools, then its results in the model's tool turns.
    const turns = (await engineRequests()).slice(before).filter((r) => r.tools.includes('Read'))
    expect(turns.length).toBeGreaterThanOrEqual(3)
    const last = turns.at(-1) as EngineRequest
    expect(last.roles.filter((r) => r === 'tool')).toHaveLength(2)
    expect(last.tool_results[0]).toContain(SECRET)
    expect(last.tool_results[1]).toContain(PRODUCT)
    expect(last.roles[0]).toBe('system')
    expect(last.roles.slice(1)).not.toContain('system')
    // Its session header names its usage (issue 58, point 4): the session id it reports, every turn.
    const token = (await readFile(join(root, 'data', 'api-token'), 'utf8')).trim()
    const session = `claude-code:${result.session_id}`
    // A request's leaf is signed when its minute slot ends (cover, served_slot_ms 60 s): turns that
    // straddle a boundary land in two slots, the second sealed up to a minute after the agent is done.
    await vi.waitFor(
      async () => {
        const reply = await fetch(`${url}/api/usage?by=session`, {
          headers: { authorization: `Bearer ${token}` },
        })
        const usage = (await reply.json()) as {
          rows?: unknown[]
          sessions?: { session: string; requests: number }[]
        }
        const found = usage.sessions?.find((s) => s.session === session)
        expect(found?.requests ?? 0, `${session} in ${JSON.stringify(usage)}`).toBeGreaterThanOrEqual(3)
      },
      { timeout: 150_000, interval: 1000 },
    )
  })
})

describe('Codex', { timeout: 600_000 }, () => {
  const codex = async (model: string, prompt: string) => {
    const home = join(root, `codex-home-${model}`)
    await mkdir(home, { recursive: true })
    await writeFile(
      join(home, 'config.toml'),
      [
        `model = "${model}"`,
        'model_provider = "ripple"',
        '[model_providers.ripple]',
        'name = "Ripple"',
        `base_url = "${url}/v1"`,
        'env_key = "RIPPLE_API_KEY"',
        'wire_api = "responses"',
        'request_max_retries = 0',
        'stream_max_retries = 0',
        '[analytics]',
        'enabled = false',
        '[feedback]',
        'enabled = false',
        '',
      ].join('\n'),
    )
    const last = join(home, 'last-message.txt')
    const env = agentEnv(home, { CODEX_HOME: home, RIPPLE_API_KEY: key })
    const args = ['exec', '--skip-git-repo-check', '--sandbox', 'workspace-write', '-o', last, prompt]
    const res = await run(CODEX, args, env, 540_000)
    return { ...res, answer: await readFile(last, 'utf8').catch(() => '') }
  }

  it('completes a turn on a generated model through the real engine', async () => {
    const { code, stderr, stdout } = await codex('qwen3-tiny', 'Say hello.')
    expect(code, `${stderr}\n${stdout}`).toBe(0)
    // Codex prints the turn's tokens when it ends: its prompt was evaluated.
    const used = Number(/tokens used\s*\n?\s*([\d,]+)/i.exec(`${stderr}\n${stdout}`)?.[1]?.replace(/,/g, ''))
    expect(used).toBeGreaterThan(5_000)
  })

  it('runs a full tool loop: reads a file, runs a command, applies a patch (a custom tool), answers', async () => {
    const before = (await engineRequests()).length
    const { code, stderr, stdout, answer } = await codex(
      'gpt-5.5',
      'What does notes.txt say? Then compute 78*77 with the shell.',
    )
    expect(code, `${stderr}\n${stdout}`).toBe(0)
    expect(answer).toContain(SECRET)
    expect(answer).toContain(PRODUCT)
    const turns = (await engineRequests()).slice(before).filter((r) => r.tools.includes('exec_command'))
    expect(turns.length).toBeGreaterThanOrEqual(4)
    const last = turns.at(-1) as EngineRequest
    expect(last.tool_results[0]).toContain(SECRET)
    expect(last.tool_results[1]).toContain(PRODUCT)
    // The custom tool was offered as a tool, its call reached Codex as one it applies, and its
    // result came back as the model's third tool turn.
    expect(last.tools).toContain('apply_patch')
    expect(last.tool_results).toHaveLength(3)
    expect(await readFile(join(work, 'greeting.txt'), 'utf8')).toBe('Hello from the mesh\n')
  })
})

describe('a call as the official clients read it, in pieces as it is written', { timeout: 120_000 }, () => {
  const CMD = { cmd: 'cat notes.txt' }
  const execCommand = {
    name: 'exec_command',
    parameters: { type: 'object', properties: { cmd: { type: 'string' } } },
  }
  const ask = [{ role: 'user' as const, content: 'Read notes.txt.' }]

  it('chat completions: the call opens with its id and name, its arguments follow in deltas', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 })
    const stream = await openai.chat.completions.create({
      model: 'scripted-agent',
      messages: ask,
      tools: [{ type: 'function', function: execCommand }],
      stream: true,
    })
    const deltas: { id?: string; function?: { name?: string; arguments?: string } }[] = []
    let finish: string | null = null
    for await (const chunk of stream) {
      const choice = chunk.choices[0]
      deltas.push(...(choice?.delta.tool_calls ?? []))
      finish = choice?.finish_reason ?? finish
    }
    expect(finish).toBe('tool_calls')
    expect(deltas[0]).toMatchObject({
      id: expect.stringMatching(/^call_/),
      function: { name: 'exec_command', arguments: '' },
    })
    // The name, then the arguments as the model wrote them (two pieces, 150 ms apart).
    expect(deltas.length).toBeGreaterThanOrEqual(3)
    expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join(''))).toEqual(CMD)
  })

  it('messages: a tool_use block whose input comes as input_json_delta, read whole by the SDK', async () => {
    const anthropic = new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0 })
    const stream = anthropic.messages.stream({
      model: 'scripted-agent',
      max_tokens: 256,
      messages: ask,
      tools: [
        { name: 'exec_command', input_schema: { type: 'object', properties: { cmd: { type: 'string' } } } },
      ],
    })
    const pieces: string[] = []
    stream.on('inputJson', (piece) => pieces.push(piece))
    const message = await stream.finalMessage()
    expect(message.stop_reason).toBe('tool_use')
    expect(message.content).toEqual([
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'exec_command', input: CMD },
    ])
    expect(pieces.length).toBeGreaterThanOrEqual(2)
    expect(pieces.join('')).toBe(JSON.stringify(CMD))
  })

  it('responses: a function_call item added before its arguments come in deltas', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 })
    const stream = await openai.responses.create({
      model: 'scripted-agent',
      input: 'Read notes.txt.',
      tools: [{ type: 'function', strict: false, ...execCommand }],
      stream: true,
    })
    const types: string[] = []
    let args = ''
    for await (const event of stream) {
      types.push(event.type)
      if (event.type === 'response.function_call_arguments.delta') args += event.delta
    }
    const added = types.indexOf('response.output_item.added')
    const firstDelta = types.indexOf('response.function_call_arguments.delta')
    expect(added).toBeGreaterThanOrEqual(0)
    expect(firstDelta).toBeGreaterThan(added)
    expect(types.filter((t) => t === 'response.function_call_arguments.delta').length).toBeGreaterThanOrEqual(
      2,
    )
    expect(JSON.parse(args)).toEqual(CMD)
    expect(types.at(-1)).toBe('response.completed')
  })

  it('responses: a custom tool’s input (Codex’s apply_patch) in deltas as it is read out of the call', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 })
    const stream = await openai.responses.create({
      model: 'scripted-agent',
      input: 'Add greeting.txt.',
      tools: [{ type: 'custom', name: 'apply_patch' }],
      stream: true,
    })
    const deltas: string[] = []
    let done: unknown = null
    for await (const event of stream) {
      if (event.type === 'response.custom_tool_call_input.delta') deltas.push(event.delta)
      if (event.type === 'response.output_item.done') done = event.item
    }
    expect(deltas.length).toBeGreaterThanOrEqual(2)
    expect(deltas.join('')).toBe(PATCH)
    expect(done).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: PATCH })
  })

  it('chat completions: a call the engine breaks off ends the stream with an error, not half a call', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 })
    const stream = await openai.chat.completions.create({
      model: 'scripted-agent',
      messages: ask,
      tools: [{ type: 'function', function: { name: 'broken_read', parameters: { type: 'object' } } }],
      stream: true,
    })
    const finishes: string[] = []
    let opened = false
    const failure = await (async () => {
      for await (const chunk of stream) {
        const choice = chunk.choices[0]
        opened ||= choice?.delta.tool_calls?.[0]?.function?.name === 'broken_read'
        if (choice?.finish_reason) finishes.push(choice.finish_reason)
      }
    })().catch((err: Error) => err)
    // The call had begun; no plain-text answer follows it as if it were whole.
    expect(opened).toBe(true)
    expect(failure).toBeInstanceOf(Error)
    expect((failure as Error).message).toMatch(/tool-call format/)
    expect(finishes).toEqual([])
  })
})
