/**
 * Every error the edges answer, by the kind it declares: the management API's status, name and
 * details for each (what callers and the CLI read), and the endpoint's status and type in OpenAI's
 * and Anthropic's shapes. An error that says nothing of itself is the daemon's own failure.
 */
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorHandler } from '../../../host/api/error-handler.ts'
import { JsonBodyError } from '../../../host/api/json-body-check.ts'
import { MCP_STATUS } from '../../../host/api/mcp/mcp-status.ts'
import {
  type AnthropicErrorBody,
  asEndpointError,
  EndpointError,
  endpointReply,
  type OpenAiErrorBody,
} from '../../../host/api/openai/endpoint-error.ts'
import {
  ArtifactMismatchError,
  ArtifactNotFoundError,
  ContentUnavailableError,
  DiskFullError,
  InvalidCidError,
  PinQuotaExceededError,
} from '../../../host/artifacts/artifact-errors.ts'
import { ConductorClosedError } from '../../../host/conductor/embedded/conductor.ts'
import {
  InvalidZomeCallError,
  RecordNotFoundError,
  ZomeFunctionNotImplementedError,
} from '../../../host/conductor/embedded/errors.ts'
import {
  InvalidEntryError,
  UnresolvedDependenciesError,
} from '../../../host/conductor/embedded/validation/validator.ts'
import { EngineMissingError } from '../../../host/inference/engine/engine-build.ts'
import {
  ModelLoadError,
  ModelNotFoundError,
  ModelTooLargeError,
  ModelUnusableError,
} from '../../../host/inference/model-errors.ts'
import { ModelPullRefusedError, ModelSourceError } from '../../../host/inference/model-pull.ts'
import { answerFor, type Failure } from '../../../host/interface/failure-kind.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import {
  CollectionExistsError,
  EmbeddingModelChangedError,
  EmbeddingUnavailableError,
  InvalidMemoryInputError,
  NoMemoryRoomError,
  ShardUnavailableError,
  UnknownCollectionError,
} from '../../../host/memory/memory-errors.ts'
import { InvalidPolicyTextError } from '../../../host/policy/policy-service.ts'
import { RefusalSchema } from '../../../host/requests/direct/direct-wire.ts'
import { RunError } from '../../../host/requests/run-errors.ts'
import { NotTaskAuthorError, TaskNotFoundError } from '../../../host/scheduler/scheduler-service.ts'
import { UNKNOWN_ACTION } from './fixtures.ts'

const app = Fastify()
let thrown: unknown
app.setErrorHandler(errorHandler(silentLogger()))
app.post('/throw', async () => {
  throw thrown
})
beforeAll(() => app.ready())
afterAll(() => app.close())

async function answer(err: unknown, body: unknown = {}) {
  thrown = err
  const res = await app.inject({ method: 'POST', url: '/throw', payload: body as object })
  const { error } = res.json() as { error: { name: string; details?: unknown } }
  return { status: res.statusCode, name: error.name, details: error.details }
}

const issues = [{ path: ['name'], message: 'too long' }]

/** A failure's status on `/api`, status and type on the OpenAI and Anthropic endpoints, status on MCP. */
type Edges = [number, [number, string], [number, string], number]

/** How a run on the mesh ends without an answer (run-errors.ts), as each edge answers it. */
const RUN_OUTCOMES: Partial<Record<Failure, Edges>> = {
  not_found: [404, [404, 'invalid_request_error'], [404, 'not_found_error'], 404],
  invalid: [400, [400, 'invalid_request_error'], [400, 'invalid_request_error'], 400],
  busy: [429, [429, 'rate_limit_error'], [429, 'rate_limit_error'], 429],
  'busy/limited': [429, [429, 'rate_limit_error'], [429, 'rate_limit_error'], 429],
  unavailable: [503, [503, 'server_error'], [503, 'overloaded_error'], 503],
  'unavailable/no_room': [507, [507, 'server_error'], [507, 'overloaded_error'], 503],
  'failed/upstream': [502, [502, 'server_error'], [502, 'api_error'], 500],
}

/** What else a runner's refusal, or a runner not reached, says (direct-wire.ts), as each edge would answer it. */
const TURNDOWNS: Partial<Record<Failure, Edges>> = {
  ...RUN_OUTCOMES,
  'unavailable/unreachable': [503, [503, 'server_error'], [503, 'overloaded_error'], 503],
  failed: [500, [500, 'server_error'], [500, 'api_error'], 500],
}

describe('the management API answers each error by its kind', () => {
  const cases: [Error, number, Record<string, unknown>?][] = [
    [new InvalidEntryError('node_capability.name', 'too long'), 422, { rule: 'node_capability.name' }],
    [new InvalidEntryError('task.author_role', 'a worker'), 403, { rule: 'task.author_role' }],
    [new InvalidZomeCallError('agent_registry', 'advertise_capability', issues), 400, { issues }],
    [new RecordNotFoundError('no such record'), 404],
    [new ConductorClosedError(), 503],
    [new ZomeFunctionNotImplementedError('agent_registry', 'find_nodes_by_tag'), 404, { field: 'fn' }],
    [new TaskNotFoundError('uhCkk'), 404],
    [new NotTaskAuthorError('uhCkk', 'uhCAk'), 403],
    [new JsonBodyError({ name: 'TooDeepJsonError', field: 'a.a', message: 'deep' }), 400, { field: 'a.a' }],
    [new InvalidPolicyTextError('p1', 'no'), 400],
    [new ModelNotFoundError('tiny', ['small']), 404, { available: ['small'] }],
    [new ModelUnusableError('cut', 'truncated'), 422],
    [new ModelLoadError('cut', ['error loading model: bad'], null), 422],
    [new EngineMissingError('/nowhere'), 503],
    [new ModelTooLargeError('huge', 2 ** 40, 2 ** 30), 507],
    [new ModelPullRefusedError('hf:x', 'not a GGUF'), 422, { reason: 'not a GGUF' }],
    [new ModelSourceError('hf:x', new Error('502 from the hub')), 502],
    [new ArtifactNotFoundError('bafy'), 404],
    [new InvalidCidError('nope'), 400, { field: 'cid' }],
    [new ContentUnavailableError('bafy', 30_000), 504],
    [new ArtifactMismatchError('bafy', 'size', '1', '2'), 422, { field: 'size' }],
    [new PinQuotaExceededError('bafy', 10, 1), 507],
    [new DiskFullError(null), 507],
    [new InvalidMemoryInputError('vector', 'wrong length'), 400, { field: 'vector' }],
    [new UnknownCollectionError('notes'), 404, { field: 'collection' }],
    [new CollectionExistsError('notes'), 409, { field: 'name' }],
    [
      new EmbeddingModelChangedError('model', 'nomic', 'a'.repeat(64), 'b'.repeat(64)),
      409,
      { field: 'model' },
    ],
    [new ShardUnavailableError(3, 'no holder'), 503, { shard: 3 }],
    [new NoMemoryRoomError('notes', [0, 1]), 503, { unplaced: [0, 1] }],
  ]

  it.each(cases)('%s', async (err, status, details) => {
    expect(await answer(err)).toEqual({ status, name: err.name, details })
  })

  it('a run on the mesh and an embedding by how the mesh failed', async () => {
    for (const [failure, [status]] of Object.entries(RUN_OUTCOMES) as [Failure, Edges][]) {
      expect(await answer(new RunError(failure, 'some_code', 'no', 'messages'))).toEqual({
        status,
        name: 'MeshRunError',
        details: { failure, code: 'some_code', field: 'messages' },
      })
      if (failure === 'invalid') continue
      expect(await answer(new EmbeddingUnavailableError('nomic', failure, 'no')), failure).toMatchObject({
        status,
        details: { model: 'nomic' },
      })
    }
  })

  it('a zome output off the contract as its own failure, without the issues', async () => {
    const err = new InvalidZomeCallError('agent_registry', 'get_capability', issues, 'output')
    expect(await answer(err)).toEqual({ status: 500, name: 'InvalidZomeCallError', details: undefined })
  })

  it("records the caller named that this peer lacks, in the caller's words, with the fields naming them", async () => {
    const body = { task: UNKNOWN_ACTION, other: 'x' }
    expect(await answer(new UnresolvedDependenciesError([UNKNOWN_ACTION]), body)).toEqual({
      status: 422,
      name: 'UnknownRecordError',
      details: { deps: [UNKNOWN_ACTION], fields: ['task'] },
    })
  })

  it('an error that says nothing as 500, a 4xx that Fastify raised as the request at fault', async () => {
    expect(await answer(new TypeError('oops'))).toEqual({
      status: 500,
      name: 'TypeError',
      details: undefined,
    })
    const fastify = Object.assign(new Error('bad url'), { code: 'FST_ERR_BAD_URL', statusCode: 400 })
    expect(await answer(fastify)).toMatchObject({ status: 400, name: 'FST_ERR_BAD_URL' })
  })
})

describe("a run's outcomes and runners' refusals, one vocabulary every edge answers", () => {
  it('answers every run outcome, every word a refusal carries and a runner not reached, on every edge', async () => {
    const said: Failure[] = [...RefusalSchema.shape.why.options, 'unavailable/unreachable']
    expect(said.filter((why) => TURNDOWNS[why] === undefined)).toEqual([])
    for (const [failure, expected] of Object.entries(TURNDOWNS) as [Failure, Edges][]) {
      const err = new RunError(failure, 'some_code', 'no')
      const openai = endpointReply('/v1/chat/completions', asEndpointError(err))
      const anthropic = endpointReply('/v1/messages', asEndpointError(err))
      const edges: Edges = [
        (await answer(err)).status,
        [openai.status, (openai.body as OpenAiErrorBody).error.type],
        [anthropic.status, (anthropic.body as AnthropicErrorBody).error.type],
        answerFor(MCP_STATUS, failure),
      ]
      expect(edges, failure).toEqual(expected)
    }
  })
})

describe('the endpoint answers each kind in the shape of its API', () => {
  const reply = (url: string, err: unknown) => {
    const { status, body } = endpointReply(url, asEndpointError(err))
    return { status, body }
  }

  it('the mesh failures, with their code and field on OpenAI, their types on both', async () => {
    const openai = reply('/v1/chat/completions', new RunError('busy', 'peers_busy', 'all busy', null))
    expect(openai).toEqual({
      status: 429,
      body: { error: { message: 'all busy', type: 'rate_limit_error', param: null, code: 'peers_busy' } },
    })
    const types = {
      unavailable: [503, 'overloaded_error'],
      'unavailable/no_room': [507, 'overloaded_error'],
      'failed/upstream': [502, 'api_error'],
    } as const
    for (const [failure, [status, type]] of Object.entries(types)) {
      const err = new RunError(failure as Failure, 'x', 'no')
      expect(reply('/v1/messages', err)).toEqual({
        status,
        body: { type: 'error', error: { type, message: 'no' } },
      })
      expect(reply('/v1/completions', err).body).toMatchObject({ error: { type: 'server_error' } })
    }
  })

  it('unauthenticated and too large as each API names them', () => {
    const unauthenticated = new EndpointError('forbidden/unauthenticated', 'invalid_api_key', 'wrong key')
    expect(reply('/v1/models', unauthenticated)).toMatchObject({
      status: 401,
      body: { error: { type: 'invalid_request_error' } },
    })
    expect(reply('/v1/messages', unauthenticated)).toMatchObject({
      status: 401,
      body: { error: { type: 'authentication_error' } },
    })
    const tooLarge = Object.assign(new Error('too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    })
    expect(reply('/v1/messages', tooLarge)).toMatchObject({
      status: 413,
      body: { error: { type: 'request_too_large' } },
    })
  })

  it("the body's own errors with their field, an error that says nothing as the daemon's", () => {
    const deep = new JsonBodyError({ name: 'TooDeepJsonError', field: 'metadata.a', message: 'deep' })
    expect(reply('/v1/responses', deep)).toMatchObject({
      status: 400,
      body: { error: { param: 'metadata.a', code: 'invalid_request' } },
    })
    expect(reply('/v1/embeddings', new ConductorClosedError())).toMatchObject({
      status: 503,
      body: { error: { code: 'unavailable', type: 'server_error' } },
    })
    expect(reply('/v1/embeddings', new TypeError('oops'))).toMatchObject({
      status: 500,
      body: { error: { code: 'internal_error', type: 'server_error' } },
    })
  })
})
