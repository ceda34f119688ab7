/**
 * The OpenAI- and Anthropic-compatible endpoint under `/v1`: thin routes around the pure translation
 * modules and RequestRunner. Every error is answered in the API's own shape (Anthropic's for
 * `/v1/messages`, OpenAI's elsewhere), including bad JSON and unknown routes.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { z } from 'zod'
import type { AliasesPort } from '../../requests/alias-service.ts'
import { resolveModel, type ScopedAlias } from '../../requests/model-aliases.ts'
import type { PeerModel } from '../../requests/peer-models.ts'
import type { RequestsPort } from '../../requests/requests-port.ts'
import { modelToRun } from '../../requests/run-request.ts'
import type { InferEmbedOutput } from '../../workers/infer-embed.ts'
import { keyAllowsModel } from '../api-keys.ts'
import {
  anthropicMessage,
  CountTokensRequestSchema,
  countTokensCall,
  MessagesRequestSchema,
  messagesCall,
  messagesStream,
  tokenCount,
} from './anthropic-messages.ts'
import {
  ChatCompletionRequestSchema,
  chatCompletion,
  chatCompletionCall,
  chatStream,
} from './chat-completions.ts'
import { CompletionRequestSchema, completion, completionCall, completionStream } from './completions.ts'
import { EmbeddingRequestSchema, embeddingCall, embeddingList } from './embeddings.ts'
import {
  anthropicErrorBody,
  asEndpointError,
  EndpointError,
  endpointReply,
  invalidRequest,
  openAiErrorBody,
} from './endpoint-error.ts'
import { clientGone, type EndpointUsage, maxTokensOf } from './endpoint-usage.ts'
import type { GenerateCall, GenerateOutput } from './generation.ts'
import { IMAGE_BODY_LIMIT, type ImagePolicy, resolveImages } from './image-parts.ts'
import { requestSession } from './request-session.ts'
import { ResponseStore } from './response-store.ts'
import { ResponseRequestSchema, response, responseCall } from './responses.ts'
import { responseStream } from './responses-stream.ts'
import { checkModelScope, type StreamRenderer, serveTask, type TaskIdentity } from './serve-task.ts'

export interface OpenAiApi {
  inference: RequestsPort
  /** How images in requests are taken; default: data URLs only. */
  images?: ImagePolicy
  /** API keys' limits, checked before a request runs; each answer counted against its key and noted. */
  usage?: Pick<EndpointUsage, 'admit'>
  /** The model aliases in force: a request naming one runs, and is answered as, the model it chooses. */
  aliases?: Pick<AliasesPort, 'list'>
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? null)
  if (!parsed.success) throw invalidRequest(parsed.error)
  return parsed.data
}

/** The body's top-level fields the schema does not read (zod drops them): said at debug, not refused. */
function unreadFields(schema: z.ZodType, body: unknown): string[] {
  const shape = (schema as { shape?: Record<string, unknown> }).shape
  if (shape === undefined || typeof body !== 'object' || body === null) return []
  return Object.keys(body).filter((k) => !(k in shape))
}

const errorBody = (err: EndpointError) => openAiErrorBody(err)

export function modelObject(model: PeerModel) {
  return {
    id: model.name,
    object: 'model' as const,
    // GGUF files carry no creation date the mesh advertises.
    created: 0,
    owned_by: 'ripple',
    ripple: {
      peers: model.peers,
      loaded_on: model.loaded_on,
      busy: model.busy,
      split: model.split,
      file_hashes: model.file_hashes,
      parameters: model.parameters,
      quantisation: model.quantisation,
      context_length: model.context_length,
      architecture: model.architecture,
      size_bytes: model.size_bytes,
      vision: model.vision,
    },
  }
}

/** An alias as `/v1/models` lists it: what it names, in order, and the model a request would run now. */
export function aliasObject(alias: ScopedAlias, models: readonly PeerModel[]) {
  const now = resolveModel(alias.name, [alias], models)
  return {
    id: alias.name,
    object: 'model' as const,
    created: 0,
    owned_by: 'ripple',
    ripple: { alias_of: alias.targets, resolves_to: now.model, scope: alias.scope },
  }
}

/** The model a request naming `asked` runs now (itself, unless an alias answers it). */
async function modelFor(api: OpenAiApi, asked: string): Promise<string> {
  const aliases = (await api.aliases?.list()) ?? []
  return aliases.length === 0 ? asked : modelToRun(asked, aliases, await api.inference.models())
}

/** One text-generation route: the request as an `infer.generate` task, answered whole or streamed. */
interface GenerationRoute<C extends GenerateCall> {
  path: string
  /** The request's schema, whose top-level fields are those read. */
  schema: z.ZodType
  call: (body: unknown) => C
  stream: (id: TaskIdentity, call: C) => StreamRenderer
  body: (task: TaskIdentity, call: C, output: GenerateOutput) => unknown
}

export function registerOpenAiRoutes(app: FastifyInstance, api: OpenAiApi): void {
  void app.register(
    async (v1) => {
      v1.setErrorHandler((err, request, reply) => {
        const refused = asEndpointError(err)
        const { status, body } = endpointReply(request.url, refused)
        if (refused.retryAfterS !== null) reply.header('retry-after', String(refused.retryAfterS))
        // What the caller got wrong is said without a stack: a caller must not flood the error log.
        if (status >= 500) request.log.error({ err }, 'endpoint request failed')
        else
          request.log.info(
            { url: request.url, status, code: refused.code, reason: refused.message },
            'request refused',
          )
        return reply.code(status).type('application/json').send(body)
      })
      v1.setNotFoundHandler((request, reply) => {
        const err = new EndpointError(
          'not_found',
          'unknown_url',
          `no route ${request.method} ${request.url.split('?')[0]}`,
        )
        const { status, body } = endpointReply(request.url, err)
        return reply.code(status).send(body)
      })

      /** The models and then the aliases (a model's own name wins, so an alias of it is left out), as a key may use them. */
      const listed = async (key: Parameters<typeof keyAllowsModel>[0]) => {
        const all = await api.inference.models()
        const models = all.filter((m) => keyAllowsModel(key, m.name))
        const aliases = ((await api.aliases?.list()) ?? [])
          .filter((a) => !all.some((m) => m.name === a.name))
          .map((a) => aliasObject(a, all))
          // A key scoped to models sees the aliases that run one of them now.
          .filter((a) => a.ripple.resolves_to !== null && keyAllowsModel(key, a.ripple.resolves_to))
        return [...models.map(modelObject), ...aliases]
      }

      v1.get('/models', async (request) => ({
        object: 'list',
        data: await listed(request.caller?.key ?? null),
      }))

      v1.get<{ Params: { model: string } }>('/models/:model', async (request) => {
        const model = (await listed(request.caller?.key ?? null)).find((m) => m.id === request.params.model)
        if (model === undefined)
          throw new EndpointError(
            'not_found',
            'model_not_found',
            `the model "${request.params.model}" is on no peer of the mesh`,
            'model',
          )
        return model
      })

      const generation = <C extends GenerateCall>(route: GenerationRoute<C>) =>
        v1.post(route.path, { bodyLimit: IMAGE_BODY_LIMIT }, async (request, reply) => {
          const call = route.call(request.body)
          // What is checked, run and answered is the model that runs, whatever name was asked.
          const model = await modelFor(api, call.model)
          const ignored = [
            ...unreadFields(route.schema, request.body).map((k) => `field ${k}`),
            ...(call.ignored ?? []),
          ]
          if (ignored.length > 0) request.log.debug({ url: request.url, ignored }, 'request parts left out')
          // A key scoped to other models makes this peer fetch no image.
          checkModelScope(request, model)
          const session = requestSession(request)
          const ticket = api.usage?.admit(
            request.caller?.key ?? null,
            { maxTokens: maxTokensOf(call.input), runs: call.fanOut },
            session,
          )
          const gone = clientGone(reply)
          try {
            const answer = await serveTask(api.inference, request, reply, {
              kind: 'infer.generate',
              model,
              input: await resolveImages(call.input, api.images ?? { allowUrls: false }),
              fanOut: call.fanOut,
              route: call.route,
              session,
              ...(call.stream && { stream: (id) => route.stream(id, call) }),
              onAnswer: (answer) => ticket?.answered(answer),
              onEvent: (event) => ticket?.saw(event),
            })
            const task = answer && {
              task: answer.task,
              model,
              created: Math.floor(Date.now() / 1000),
            }
            return task && replyJson(reply, route.body(task, call, answer.output as GenerateOutput))
          } finally {
            ticket?.end(gone())
          }
        })

      generation({
        path: '/chat/completions',
        schema: ChatCompletionRequestSchema,
        call: (body) => chatCompletionCall(parse(ChatCompletionRequestSchema, body)),
        stream: (id, call) => chatStream(id, call.input, call.includeUsage, errorBody),
        body: (task, _call, output) => chatCompletion(task, output),
      })
      generation({
        path: '/completions',
        schema: CompletionRequestSchema,
        call: (body) => completionCall(parse(CompletionRequestSchema, body)),
        stream: (id, call) => completionStream(id, call.includeUsage, (e) => errorBody(asEndpointError(e))),
        body: (task, _call, output) => completion(task, output),
      })
      const responses = new ResponseStore()
      generation({
        path: '/responses',
        schema: ResponseRequestSchema,
        call: (body) => {
          const request = parse(ResponseRequestSchema, body)
          return responseCall(request, responses.conversation(request.previous_response_id, request.model))
        },
        stream: (id, call) => {
          const events = responseStream(id, call.input, (e) => errorBody(asEndpointError(e)), call.tools)
          return {
            ...events,
            render: (event) => {
              if (event.type === 'done' && call.store)
                responses.remember(id, call.history, event.output as GenerateOutput)
              return events.render(event)
            },
          }
        },
        body: (task, call, output) => {
          if (call.store) responses.remember(task, call.history, output)
          return response(task, output, call.tools)
        },
      })
      generation({
        path: '/messages',
        schema: MessagesRequestSchema,
        call: (body) => messagesCall(parse(MessagesRequestSchema, body)),
        stream: (id, call) =>
          messagesStream(id, call.input, (e) => anthropicErrorBody(asEndpointError(e)), call.reply),
        body: (task, call, output) => anthropicMessage(task, call.input, output, call.reply),
      })
      // Counted by the engine, with the model's own template: the request served as one token.
      generation({
        path: '/messages/count_tokens',
        schema: CountTokensRequestSchema,
        call: (body) => countTokensCall(parse(CountTokensRequestSchema, body)),
        stream: () => {
          throw new Error('count_tokens is never streamed')
        },
        body: (_task, _call, output) => tokenCount(output),
      })

      v1.post('/embeddings', async (request, reply) => {
        const body = parse(EmbeddingRequestSchema, request.body)
        const asked = embeddingCall(body)
        const call = { ...asked, model: await modelFor(api, asked.model) }
        checkModelScope(request, call.model)
        const ticket = api.usage?.admit(request.caller?.key ?? null, { maxTokens: 0, runs: call.fanOut })
        const gone = clientGone(reply)
        try {
          const answer = await serveTask(api.inference, request, reply, {
            kind: 'infer.embed',
            ...call,
            onAnswer: (done) => ticket?.answered(done),
            onEvent: (event) => ticket?.saw(event),
          })
          if (answer === null) return
          const output = answer.output as InferEmbedOutput
          if (body.dimensions != null && body.dimensions !== output.dimension) {
            throw new EndpointError(
              'invalid',
              'invalid_value',
              `model "${call.model}" gives vectors of ${output.dimension} dimensions; it cannot give ${body.dimensions}`,
              'dimensions',
            )
          }
          return replyJson(reply, embeddingList({ ...body, model: call.model }, output))
        } finally {
          ticket?.end(gone())
        }
      })
    },
    { prefix: '/v1' },
  )
}

function replyJson(reply: FastifyReply, body: unknown) {
  return reply.type('application/json').send(body)
}
