/**
 * Virtual models with real agents (issue 58, 1): Claude Code run with no model setting at all (no
 * `--model`, no `ANTHROPIC_*_MODEL`) sends its own Claude names; a `claude-*` alias set with
 * `ripple models alias set` answers them with the mesh's model. Codex, given a provider and no
 * model, sends its own GPT name, which a `gpt-*` alias answers. The answer names the model that ran,
 * and so does the requester's signed record of it.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { readApiToken } from '../../host/api/api-token.ts'
import { ApiClient } from '../../host/api/client/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { llamaCppTemplate } from '../fixtures/gguf-gen/llama-cpp-templates.ts'
import { REPO_ROOT, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

const CLAUDE = join(REPO_ROOT, 'node_modules', '.bin', 'claude')
const CODEX = join(REPO_ROOT, 'node_modules', '.bin', 'codex')
/** Tokens per context: Codex's prompt, written out by a byte-level vocabulary, is tens of thousands. */
const CONTEXT = 131_072

let root: string
let dataDir: string
let peer: RunningRipple
let url: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-aliases-'))
  const models = join(root, 'models')
  await mkdir(models, { recursive: true })
  const model = { ...TINY_MODEL, contextLength: CONTEXT, chatTemplate: await llamaCppTemplate('qwen3') }
  await writeLlamaModel(join(models, 'qwen3-tiny.gguf'), model)
  dataDir = join(root, 'data')
  peer = await startRipple(
    [
      ...['--data-dir', dataDir, '--models-dir', models, '--api-port', '0', '--name', 'aliases'],
      ...['--context-size', String(CONTEXT), '--record-slot', '1s', '--log-level', 'warn'],
    ],
    120_000,
  )
  url = /^ripple: api (\S+)$/m.exec(peer.stdout())?.[1] ?? ''
}, 180_000)

afterAll(async () => {
  if (peer && peer.child.exitCode === null) peer.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

describe('Claude Code with no model setting, through a claude-* alias', { timeout: 600_000 }, () => {
  it('without the alias, the name Claude Code sends is on no peer of the mesh', async () => {
    const result = await claudeCode()
    expect(result.is_error, result.log).toBe(true)
    expect(result.api_error_status, result.log).toBe(404)
    // The model it chose itself, named in its error.
    expect(result.result).toMatch(/selected model \(claude-[a-z0-9.-]+\)/)
  })

  it('ripple models alias set/ls: the pattern and the model it runs now', async () => {
    const set = await runRipple([
      'models',
      'alias',
      'set',
      'claude-*',
      'qwen3-coder-30b',
      'qwen3-tiny',
      '--data-dir',
      dataDir,
    ])
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toContain('claude-* -> qwen3-coder-30b, qwen3-tiny (peer; runs qwen3-tiny)')
    const ls = await runRipple(['models', 'alias', 'ls', '--data-dir', dataDir, '--json'])
    expect(JSON.parse(ls.stdout)).toEqual({
      aliases: [
        {
          name: 'claude-*',
          targets: ['qwen3-coder-30b', 'qwen3-tiny'],
          scope: 'peer',
          resolves_to: 'qwen3-tiny',
        },
      ],
    })
    const loop = await runRipple(['models', 'alias', 'set', 'fast', 'claude-*', '--data-dir', dataDir])
    expect(loop.code).not.toBe(0)
    expect(loop.stderr).toContain('an alias names models by their names, without "*"')
  })

  it('completes a turn: Claude Code names its own model, the alias runs the mesh’s', async () => {
    const api = new ApiClient({ baseUrl: url, token: await token() })
    const result = await claudeCode()
    // No model of ours was named: Claude Code asked for its own, which only the alias answers.
    expect(result.is_error, result.log).toBe(false)
    // What ran: the mesh's model, in this peer's signed usage (once its window is signed).
    await vi.waitFor(
      async () => {
        const { rows } = await api.usage()
        expect(rows.map((r) => r.model)).toContain('qwen3-tiny')
        expect(rows.some((r) => r.model.startsWith('claude-'))).toBe(false)
      },
      { timeout: 60_000, interval: 1000 },
    )
  })

  it("the answer and the requester's signed record name the model that ran", async () => {
    const anthropic = new Anthropic({ baseURL: url, apiKey: await token(), maxRetries: 0 })
    const { data, response } = await anthropic.messages
      .create({ model: 'claude-opus-4-1', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse()
    expect(data.model).toBe('qwen3-tiny')
    const request = response.headers.get('x-ripple-task') ?? ''
    const served = await new ApiClient({ baseUrl: url, token: await token() }).getServed(request)
    expect(served.served?.leaf.model).toBe('qwen3-tiny')
  })
})

async function token(): Promise<string> {
  return (await readApiToken(dataDir)) ?? ''
}

describe('Codex with no model setting, through a gpt-* alias', { timeout: 600_000 }, () => {
  it('completes a turn: Codex names its own model, the alias runs the mesh’s', async () => {
    const set = await runRipple(['models', 'alias', 'set', 'gpt-*', 'qwen3-tiny', '--data-dir', dataDir])
    expect(set.code, set.stderr).toBe(0)
    const home = join(root, 'codex-home')
    await mkdir(home, { recursive: true })
    // A provider and nothing else: no `model`, so Codex sends the name it defaults to.
    await writeFile(
      join(home, 'config.toml'),
      [
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
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      LANG: 'C.UTF-8',
      TMPDIR: tmpdir(),
      CODEX_HOME: home,
      RIPPLE_API_KEY: await token(),
    }
    const running = promisify(execFile)(CODEX, ['exec', '--skip-git-repo-check', 'Say hello.'], {
      cwd: root,
      env,
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    })
    running.child.stdin?.end()
    const res = await running.then(
      (r) => ({ code: 0, ...r }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({
        code: err.code ?? 1,
        stdout: err.stdout ?? '',
        stderr: err.stderr ?? '',
      }),
    )
    expect(res.code, `${res.stderr}\n${res.stdout}`).toBe(0)
    // Codex says which model it asked for: one of its own, not the mesh's.
    expect(`${res.stderr}\n${res.stdout}`).toMatch(/model: gpt-/)
  })
})

interface ClaudeResult {
  is_error?: boolean
  api_error_status?: number
  result?: string
}

/** Claude Code with no model setting of ours: bare, no tools and a short system prompt (the model setting is
 * what is tested, not the prompt's size: coding-agents.test.ts runs the whole prompt). */
async function claudeCode(): Promise<ClaudeResult & { log: string }> {
  const home = join(root, 'claude-home')
  await mkdir(home, { recursive: true })
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    TMPDIR: tmpdir(),
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: await token(),
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  }
  const args = [
    '-p',
    'Say hello.',
    '--output-format',
    'json',
    '--bare',
    '--tools',
    '',
    '--system-prompt',
    'Answer briefly.',
  ]
  const running = promisify(execFile)(CLAUDE, args, {
    cwd: root,
    env,
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  // As from a terminal with nothing piped.
  running.child.stdin?.end()
  const res = await running.catch((err: { stdout?: string; stderr?: string }) => ({
    stdout: err.stdout ?? '',
    stderr: err.stderr ?? '',
  }))
  const result = JSON.parse(res.stdout.trim().split('\n').at(-1) || '{}') as ClaudeResult
  return { ...result, log: `${res.stderr}\n${res.stdout}` }
}
