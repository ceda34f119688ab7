/**
 * The MCP server, driven by the SDK's own Client over both transports, against two `ripple up`
 * processes on loopback: the asker (no models) serves MCP; the runner holds the tiny generated model,
 * so every model task the asker submits runs on the runner. Over stdio the client spawns `ripple mcp`;
 * over HTTP it talks to `/mcp` on the asker's API listener.
 */

import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient } from '../../host/api/client/index.ts'
import type { ServedView } from '../../host/api/contract/index.ts'
import { readDaemonFile } from '../../host/daemon/daemon-file.ts'
import { type NamedRipple, REPO_ROOT, RIPPLE_BIN, runRipple, startAskerAndRunner } from './ripple-process.ts'

let root: string
let asker: NamedRipple
let runner: NamedRipple
let apiUrl: string
let token: string
let stdio: Client
let http: Client
/**
 * Progress messages as they came off the stdio pipe, before the response. The SDK's client runs its
 * progress callback a microtask late and drops it once the response is read, so notifications read in
 * the same chunk as the response never reach `onprogress` (a busy machine makes that one chunk).
 */
const wireProgress: string[] = []

const TOOLS = [
  'add_artifact',
  'cancel_task',
  'embed',
  'generate_text',
  'get_artifact',
  'get_task',
  'list_artifacts',
  'list_models',
  'list_peers',
  'memory_collections',
  'memory_search',
  'memory_upsert',
  'mesh_status',
  'submit_task',
]

interface ToolReply {
  isError?: boolean
  content: { type: string; text?: string }[]
}

const textOf = (reply: unknown) => (reply as ToolReply).content.map((c) => c.text ?? '').join('\n')
const resourceText = (read: { contents: ({ text: string } | { blob: string })[] }) => {
  const [first] = read.contents
  return first && 'text' in first ? first.text : ''
}
const jsonOf = <T = Record<string, unknown>>(reply: unknown): T => {
  expect((reply as ToolReply).isError, textOf(reply)).toBeFalsy()
  return JSON.parse(textOf(reply)) as T
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-mcp-'))
  ;[asker, runner] = await startAskerAndRunner(root, 'e2e-mcp')
  apiUrl = (await readDaemonFile(asker.dataDir))!.api_url
  token = (await readFile(join(asker.dataDir, 'api-token'), 'utf8')).trim()

  stdio = new Client({ name: 'ripple-e2e-stdio', version: '1.0.0' })
  const pipe = new StdioClientTransport({
    command: process.execPath,
    args: [RIPPLE_BIN, 'mcp', '--data-dir', asker.dataDir],
    cwd: REPO_ROOT,
    stderr: 'pipe',
  })
  await stdio.connect(pipe)
  const deliver = pipe.onmessage
  pipe.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && message.method === 'notifications/progress')
      wireProgress.push(String(message.params?.message ?? ''))
    deliver?.(message)
  }
  http = new Client({ name: 'ripple-e2e-http', version: '1.0.0' })
  await http.connect(httpTransport(token))

  // The asker must know the runner's model before a model task can be claimed.
  for (const deadline = Date.now() + 60_000; ; ) {
    const { mesh } = jsonOf<{ mesh: { name: string; peers: { agent: string }[] }[] }>(
      await http.callTool({ name: 'list_models', arguments: {} }),
    )
    if (mesh.find((m) => m.name === 'tiny')?.peers.some((p) => p.agent === runner.agent)) break
    if (Date.now() > deadline)
      throw new Error(`the asker never saw the runner's model: ${JSON.stringify(mesh)}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}, 150_000)

afterAll(async () => {
  await Promise.all([stdio?.close(), http?.close()])
  for (const d of [asker, runner]) if (d && d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

function httpTransport(bearer: string | null) {
  return new StreamableHTTPClientTransport(new URL('/mcp', apiUrl), {
    requestInit: bearer === null ? {} : { headers: { authorization: `Bearer ${bearer}` } },
  })
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
}

/** POSTs a JSON-RPC message to /mcp with the headers given (node:http, so Host can be set). */
function rawPost(
  headers: Record<string, string>,
  message: object = INITIALIZE,
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(message)
  const url = new URL('/mcp', apiUrl)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${token}`,
          ...headers,
        },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString()
          // A good initialize answers on an event stream: the first event is enough.
          if (text.includes('\n\n')) res.destroy()
        })
        res.on('close', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('ripple MCP server (SDK client, two ripple up processes)', { timeout: 120_000 }, () => {
  it('lists every tool with a description and a JSON schema of its arguments, over stdio and HTTP', async () => {
    expect(asker.stdout()).toContain(`ripple: mcp ${apiUrl}/mcp (or \`ripple mcp\` over stdio)\n`)
    for (const client of [stdio, http]) {
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS)
      for (const tool of tools) {
        expect(tool.description?.length, tool.name).toBeGreaterThan(40)
        expect(tool.inputSchema.type).toBe('object')
      }
      const generate = tools.find((t) => t.name === 'generate_text')!.inputSchema
      expect(Object.keys(generate.properties ?? {})).toEqual(
        expect.arrayContaining([
          'model',
          'prompt',
          'messages',
          'max_tokens',
          'temperature',
          'seed',
          'fan_out',
        ]),
      )
      const submit = tools.find((t) => t.name === 'submit_task')!.inputSchema
      expect(submit.required).toEqual(expect.arrayContaining(['kind', 'input']))
      expect(submit.properties?.kind).toMatchObject({ type: 'string', pattern: expect.any(String) })
    }
  })

  it('runs a task submitted through MCP on the other peer and answers its signed result', async () => {
    // Only the runner has the model, so only it may claim.
    const outcome = jsonOf<{
      task: string
      status: string
      output: unknown
      result: { action_hash: string; author: string; status: string }
      receipt: { accepted: boolean }
    }>(
      await http.callTool({
        name: 'submit_task',
        arguments: {
          kind: 'echo',
          input: { message: 'through mcp' },
          requirements: { model: 'tiny' },
          wait: true,
        },
      }),
    )
    expect(outcome.status).toBe('done')
    expect(outcome.output).toMatchObject({ message: 'through mcp' })
    expect(outcome.result).toMatchObject({ author: runner.agent, status: 'ok' })
    expect(outcome.receipt.accepted).toBe(true)
    // The result is an entry of the runner's chain, which the asker received and verified; the task's
    // whole life is readable over the other transport and as a resource.
    const { view } = jsonOf<{ view: { state: { results: { action_hash: string; author: string }[] } } }>(
      await stdio.callTool({ name: 'get_task', arguments: { hash: outcome.task } }),
    )
    expect(view.state.results).toContainEqual(
      expect.objectContaining({ action_hash: outcome.result.action_hash, author: runner.agent }),
    )
    const resource = await http.readResource({ uri: `ripple://tasks/${outcome.task}` })
    expect(JSON.parse(resourceText(resource))).toMatchObject({ state: { status: 'done' } })
    const peers = await stdio.readResource({ uri: 'ripple://peers' })
    const listed = JSON.parse(resourceText(peers)) as {
      agent: string
      models: { name: string }[]
    }[]
    expect(listed.find((p) => p.agent === runner.agent)?.models.map((m) => m.name)).toEqual(['tiny'])
  })

  it('streams generated tokens as progress notifications and answers the text, who ran it and the model', async () => {
    wireProgress.length = 0
    const reply = await stdio.callTool(
      {
        name: 'generate_text',
        arguments: { prompt: 'A question asked through MCP', model: 'tiny', max_tokens: 16, seed: 7 },
      },
      undefined,
      // Asks for progress (a progress token); what reaches this callback depends on the SDK's timing.
      { onprogress: () => {} },
    )
    const messages = [...wireProgress]
    const output = jsonOf<{
      text: string
      ran_on: string
      model: { name: string }
      params: { seed: number }
      task: string
    }>(reply)
    expect(output).toMatchObject({ ran_on: runner.agent, model: { name: 'tiny' }, params: { seed: 7 } })
    // Straight to its runner: `task` names the request, whose signed record get_task reads.
    const record = jsonOf<ServedView>(
      await stdio.callTool({ name: 'get_task', arguments: { hash: output.task } }),
    )
    expect(record).toMatchObject({
      request: output.task,
      served: { leaf: { runner: runner.agent, accepted: true }, runner_batch: { author: runner.agent } },
      checks: { served: { valid: true } },
    })
    expect(output.text.length).toBeGreaterThan(0)
    // The tokens came as notifications, in order, before the answer.
    expect(messages.length).toBeGreaterThan(2)
    expect(messages.join('')).toContain(output.text)
    expect(messages).toContainEqual(expect.stringMatching(/^(assigned|running) \(attempt 1 on /))
  })

  it('asks several peers with fan_out and reports every vote; embeds texts on the peer with the model', async () => {
    // A two-peer mesh where one peer has the model: one answer, its vote, and the slot nobody could take.
    const fanned = jsonOf<{ text: string; agreement: string; votes: { assignee: string; agree: boolean }[] }>(
      await http.callTool({
        name: 'generate_text',
        arguments: { prompt: 'Asked of two peers', model: 'tiny', max_tokens: 8, fan_out: 2 },
      }),
    )
    expect(fanned.votes).toEqual([expect.objectContaining({ assignee: runner.agent, agree: true })])
    expect(fanned.agreement).toBe('1 of 1 answers agree; 1 slot found no claimant')

    const embedded = jsonOf<{ ran_on: string; dimension: number; vectors: number[][] }>(
      await stdio.callTool({ name: 'embed', arguments: { input: ['one text', 'another'], model: 'tiny' } }),
    )
    expect(embedded.ran_on).toBe(runner.agent)
    expect(embedded.vectors).toHaveLength(2)
    expect(embedded.vectors[0]).toHaveLength(embedded.dimension)
  })

  it('says why nobody claims a task, and cancels it', async () => {
    const { task } = jsonOf<{ task: string }>(
      await stdio.callTool({
        name: 'submit_task',
        arguments: {
          kind: 'echo',
          input: { message: 'for nobody' },
          requirements: { model: 'no-such-model' },
        },
      }),
    )
    const why = async () =>
      jsonOf<{ why_unclaimed: string | null }>(
        await http.callTool({ name: 'get_task', arguments: { hash: task } }),
      ).why_unclaimed
    await expect.poll(why, { timeout: 20_000 }).toMatch(/no node has model "no-such-model"/)
    const cancelled = jsonOf<{ cancellation: string }>(
      await stdio.callTool({ name: 'cancel_task', arguments: { hash: task, reason: 'nobody can run it' } }),
    )
    expect(cancelled.cancellation).toMatch(/^uhCkk/)
    const after = jsonOf<{ status: string; why: string }>(
      await http.callTool({ name: 'get_task', arguments: { hash: task } }),
    )
    expect(after).toMatchObject({ status: 'cancelled', why: 'nobody can run it' })
  })

  it('gives up on a task it waits on once no peer will claim it, and cancels it with the reason', async () => {
    const progress: string[] = []
    const outcome = jsonOf<{ task: string; status: string; why: string }>(
      await http.callTool(
        {
          name: 'submit_task',
          arguments: {
            kind: 'echo',
            input: { message: 'for nobody, waited on' },
            requirements: { model: 'no-such-model' },
            wait: true,
          },
        },
        undefined,
        { onprogress: (p) => void progress.push(p.message ?? '') },
      ),
    )
    expect(outcome).toMatchObject({
      status: 'cancelled',
      why: expect.stringMatching(/^nobody can serve it: /),
    })
    expect(outcome.why).toMatch(/no node has model "no-such-model"/)
    expect(progress).toContainEqual(expect.stringMatching(/^waiting for a claim: .*no-such-model/))
  })

  it('adds an artifact that the other peer then keeps, reads it back as a tool and as a resource', async () => {
    const notes = `# notes from an agent\n${'every line counts\n'.repeat(200)}`
    const added = jsonOf<{ cid: string; sha256: string; holders: string[]; mime_type: string }>(
      await stdio.callTool({
        name: 'add_artifact',
        arguments: { name: 'notes.md', text: notes, mime_type: 'text/markdown', replication: 2 },
      }),
    )
    expect(added.cid).toMatch(/^bafk/)
    expect(added.sha256).toBe(createHash('sha256').update(notes).digest('hex'))
    expect(added.holders).toEqual([asker.agent])
    // Replication 2: the runner takes the second copy by itself.
    const runnerApi = new ApiClient({
      baseUrl: (await readDaemonFile(runner.dataDir))!.api_url,
      token: (await readFile(join(runner.dataDir, 'api-token'), 'utf8')).trim(),
    })
    for (const deadline = Date.now() + 60_000; ; ) {
      const view = await runnerApi.showArtifact(added.cid).catch(() => null)
      if (view?.holders.some((h) => h.author === runner.agent)) break
      if (Date.now() > deadline) throw new Error('the runner never took the second copy')
      await new Promise((resolve) => setTimeout(resolve, 500))
    }

    const got = jsonOf<{ text: string; holders: string[] }>(
      await http.callTool({ name: 'get_artifact', arguments: { cid: added.cid } }),
    )
    expect(got.text).toBe(notes)
    expect(got.holders.sort()).toEqual([asker.agent, runner.agent].sort())
    const binary = Buffer.from([0, 255, 1, 254, 2, 253])
    const bin = jsonOf<{ cid: string }>(
      await http.callTool({
        name: 'add_artifact',
        arguments: { name: 'raw.bin', base64: binary.toString('base64') },
      }),
    )
    const read = await stdio.readResource({ uri: `ripple://artifacts/${bin.cid}` })
    const [content] = read.contents
    expect(content).toMatchObject({ mimeType: 'application/octet-stream' })
    expect(Buffer.from((content as { blob: string }).blob, 'base64').equals(binary)).toBe(true)
    const listed = jsonOf<{ artifacts: { cid: string; name: string }[] }>(
      await http.callTool({ name: 'list_artifacts', arguments: {} }),
    )
    expect(listed.artifacts.map((a) => a.name)).toEqual(expect.arrayContaining(['notes.md', 'raw.bin']))
    const { resources } = await http.listResources()
    expect(resources.map((r) => r.uri)).toContain(`ripple://artifacts/${added.cid}`)

    const both = await http.callTool({
      name: 'add_artifact',
      arguments: { name: 'x', text: 'a', base64: 'YQ==' },
    })
    expect(both.isError).toBe(true)
    expect(textOf(both)).toMatch(/exactly one of "text" or "base64"/)
    const unknown = await http.callTool({
      name: 'get_artifact',
      arguments: { cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' },
    })
    expect(unknown.isError).toBe(true)
    expect(textOf(unknown)).toMatch(/no artifact is registered/)
  })

  it('remembers texts with memory_upsert and finds them with memory_search (embedded on the peer with the model)', async () => {
    const api = new ApiClient({ baseUrl: apiUrl, token })
    await api.createCollection({
      name: 'agent-notes',
      dimension: 64,
      shard_count: 2,
      embedding_model: 'tiny',
    })
    const runnerApi = new ApiClient({
      baseUrl: (await readDaemonFile(runner.dataDir))!.api_url,
      token: (await readFile(join(runner.dataDir, 'api-token'), 'utf8')).trim(),
    })
    await expect
      .poll(async () => (await runnerApi.listCollections()).collections.map((c) => c.name), {
        timeout: 30_000,
      })
      .toContain('agent-notes')
    const docs = ['the cat sat on the mat', 'ships sail at dawn', 'bread rises'].map((text, i) => ({
      id: `n${i}`,
      text,
      metadata: { i },
    }))
    const upserted = jsonOf<{ written: number }>(
      await stdio.callTool({ name: 'memory_upsert', arguments: { collection: 'agent-notes', docs } }),
    )
    expect(upserted.written).toBe(3)
    const found = jsonOf<{ hits: { id: string }[]; shards_missing: number[] }>(
      await http.callTool({
        name: 'memory_search',
        arguments: { collection: 'agent-notes', text: 'ships sail at dawn', k: 2 },
      }),
    )
    expect(found.shards_missing).toEqual([])
    expect(found.hits[0]?.id).toBe('n1')
    const refused = await http.callTool({
      name: 'memory_search',
      arguments: { collection: 'agent-notes', vector: [1, 2], k: 1 },
    })
    expect((refused as ToolReply).isError).toBe(true)
    expect(textOf(refused)).toMatch(/vector: has 2 numbers; collection "agent-notes" has dimension 64/)
  })

  it('answers a bad argument with a tool error naming the field, and keeps serving', async () => {
    for (const client of [stdio, http]) {
      const tooMany = await client.callTool({
        name: 'generate_text',
        arguments: { prompt: 'x', model: 'tiny', max_tokens: 0 },
      })
      expect(tooMany.isError).toBe(true)
      expect(textOf(tooMany)).toMatch(/max_tokens/)
      const badHash = await client.callTool({ name: 'get_task', arguments: { hash: 'nope' } })
      expect(badHash.isError).toBe(true)
      expect(textOf(badHash)).toMatch(/hash/)
      // A kind the asker runs too: its worker refuses the input, and the API names the field.
      const badInput = await client.callTool({
        name: 'submit_task',
        arguments: { kind: 'sha256', input: { bytes: 1 } },
      })
      expect(badInput.isError).toBe(true)
      expect(textOf(badInput)).toMatch(/InvalidPayloadError \(HTTP 400\): invalid input for sha256 \(.*data/)
      const status = jsonOf<{ agent: string; peers: { online: number } }>(
        await client.callTool({ name: 'mesh_status', arguments: {} }),
      )
      expect(status).toMatchObject({ agent: asker.agent, peers: { online: 2 } })
    }
  })

  it('cancels the task on the mesh when the client cancels a waiting call', async () => {
    const controller = new AbortController()
    const call = http.callTool(
      {
        name: 'submit_task',
        arguments: {
          kind: 'echo',
          input: { message: 'slow', delay_ms: 30_000 },
          requirements: { model: 'tiny' },
          wait: true,
        },
      },
      undefined,
      {
        // Cancel once the runner started it.
        onprogress: (p) => {
          if (/^running /.test(p.message ?? '')) controller.abort()
        },
        signal: controller.signal,
      },
    )
    await expect(call).rejects.toThrow()
    // Newest first: the task just cancelled. The MCP server cancelled it for the client that went away.
    const api = new ApiClient({ baseUrl: apiUrl, token })
    const [slow] = (await api.listTasks()).tasks
    expect(slow?.kind).toBe('echo')
    await expect
      .poll(async () => (await api.getTask(slow!.action_hash)).state.cancellation?.entry.reason, {
        timeout: 20_000,
      })
      .toBe('cancelled by the MCP client')
  })

  it('gives a session opened with an API key only what the key allows', async () => {
    const create = async (...flags: string[]) => {
      const res = await runRipple(['keys', 'create', '--json', '--data-dir', asker.dataDir, ...flags])
      expect(res.code, res.stderr).toBe(0)
      return JSON.parse(res.stdout) as { key: string; id: string }
    }
    const tiny = await create('--name', 'mcp-agent', '--models', 'tiny')
    const tinyKey = tiny.key
    const otherKey = (await create('--models', 'other-model')).key
    const withKey = new Client({ name: 'keyed', version: '1.0.0' })
    await withKey.connect(httpTransport(tinyKey))
    try {
      const { tools } = await withKey.listTools()
      expect(tools.map((t) => t.name).sort()).toEqual([
        'embed',
        'generate_text',
        'list_models',
        'list_peers',
        'mesh_status',
      ])
      const generated = jsonOf<{ text: string; ran_on: string }>(
        await withKey.callTool({
          name: 'generate_text',
          arguments: { model: 'tiny', prompt: 'The mesh', max_tokens: 3, temperature: 0 },
        }),
      )
      expect(generated.ran_on).toBe(runner.agent)
      // Tools the key does not allow are not there at all, whatever the client asks.
      const submit = await withKey.callTool({ name: 'submit_task', arguments: { kind: 'echo', input: {} } })
      expect(submit.isError).toBe(true)
      expect(textOf(submit)).toMatch(/submit_task not found/)
      const unnamed = await withKey.callTool({
        name: 'generate_text',
        arguments: { prompt: 'x', max_tokens: 1 },
      })
      expect(unnamed.isError).toBe(true)
      expect(textOf(unnamed)).toMatch(/model: this API key may use only tiny/)
    } finally {
      await withKey.close()
    }
    const other = new Client({ name: 'other', version: '1.0.0' })
    await other.connect(httpTransport(otherKey))
    try {
      const refused = await other.callTool({
        name: 'generate_text',
        arguments: { model: 'tiny', prompt: 'x', max_tokens: 1 },
      })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toMatch(/may use only other-model/)
    } finally {
      await other.close()
    }
    const revoked = await runRipple(['keys', 'revoke', tiny.id, '--data-dir', asker.dataDir])
    expect(revoked.code, revoked.stderr).toBe(0)
    const afterRevoke = new Client({ name: 'revoked', version: '1.0.0' })
    await expect(afterRevoke.connect(httpTransport(tinyKey))).rejects.toThrow(/was revoked/)
  })

  it('refuses HTTP without a key, with a wrong key, from a foreign Origin or Host', async () => {
    for (const [bearer, why] of [
      [null, /UnauthorizedError.*missing API key/],
      ['wrong-token', /UnauthorizedError.*wrong API key/],
    ] as const) {
      const client = new Client({ name: 'intruder', version: '1.0.0' })
      await expect(client.connect(httpTransport(bearer))).rejects.toThrow(why)
    }
    const foreignOrigin = await rawPost({ origin: 'http://evil.example' })
    expect(foreignOrigin.status).toBe(403)
    expect(foreignOrigin.body).toMatch(/ForbiddenOriginError/)
    const foreignHost = await rawPost({ host: `evil.example:${new URL(apiUrl).port}` })
    expect(foreignHost.status).toBe(403)
    expect(foreignHost.body).toMatch(/ForbiddenHostError/)
    // The same request from a loopback page, with the key, opens a session.
    const local = await rawPost({ origin: `http://localhost:${new URL(apiUrl).port}` })
    expect(local.status).toBe(200)
    expect(local.body).toMatch(/"serverInfo":\{"name":"ripple"/)
    // Anything but initialize needs a session, and a session id must be one this server gave out.
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' }
    expect((await rawPost({}, list)).status).toBe(400)
    expect((await rawPost({ 'mcp-session-id': 'made-up' }, list)).status).toBe(404)
  })
})
