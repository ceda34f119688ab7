/**
 * `ripple task submit|ls|show|cancel`: tasks on the mesh. `submit --wait` follows the task (claimed,
 * assigned, running, progress) on stderr and prints its output on stdout when it is done; with
 * `--fan-out N` the output is the answer N peers agreed on, and each peer's vote follows on stderr.
 */
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError } from 'commander'
import { type ApiClient, followToEnd } from '../../api/client/index.ts'
import {
  acceptedOutput,
  LoadProgressEventSchema,
  type SubmitTaskBody,
  type TaskEvent,
  type TaskView,
  whyEnded,
} from '../../api/contract/index.ts'
import { TASK_DEFAULTS } from '../../interface/task-defaults.ts'
import { isRequestHash } from '../../requests/direct/direct-request.ts'
import { printable, printableJson, printableText } from '../../text/printable.ts'

import { collectTag, parseByteSize, parseDurationMs, parseIntegerIn } from '../cli-options.ts'
import { formatDuration } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { type ProgressBar, progressBar } from '../progress-bar.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'
import { servedText } from './served-text.ts'
import { reportVotes, short, taskTable, taskText } from './task-text.ts'

interface SubmitOptions extends TargetOptions {
  input: string
  ram?: number
  vram?: number
  gpu?: boolean
  cores?: number
  model?: string
  tag?: string[]
  lease?: number
  timeout?: number
  attempts?: number
  fanOut?: number
  wait?: boolean
}

/** Thrown by `submit --wait` when the task ends other than done (the exit status is then 1). */
export class TaskEndedError extends Error {
  static override readonly name = 'TaskEndedError'
  constructor(hash: string, status: string, why: string) {
    super(`task ${hash} ${status}${why ? `: ${printable(why)}` : ''}`)
    this.name = 'TaskEndedError'
  }
}

/** Thrown once no peer will claim a task the CLI waits on: waiting longer would not help. */
export class NobodyCanServeError extends Error {
  static override readonly name = 'NobodyCanServeError'
  constructor(hash: string, reason: string) {
    super(`no peer can serve task ${hash} (cancelled it): ${printable(reason)}`)
    this.name = 'NobodyCanServeError'
  }
}

const RECORD_WAIT_NOTE_MS = 1_500
const RECORD_WAIT_LINE =
  'ripple: waiting for its record: a requester signs what it asked at the end of each slot (a minute by default)\n'

export function taskCommand(): Command {
  return new Command('task')
    .description('submit, list, show and cancel tasks on the mesh')
    .addCommand(submitCommand())
    .addCommand(
      addTargetOptions(new Command('ls').description('list open tasks and the ones submitted here')).action(
        async (options: TargetOptions) => {
          const { tasks } = await (await connectDaemon(options)).listTasks()
          print(options, tasks, () => taskTable(tasks))
        },
      ),
    )
    .addCommand(
      addTargetOptions(
        new Command('show')
          .description('show the whole life of a task, or the record of a request (x-ripple-task)')
          .argument('<hash>'),
      ).action(async (hash: string, options: TargetOptions) => {
        const api = await connectDaemon(options)
        if (isRequestHash(hash)) {
          // A request's record is signed at the end of its slot (up to a minute): say why nothing shows yet.
          const waiting = setTimeout(() => process.stderr.write(RECORD_WAIT_LINE), RECORD_WAIT_NOTE_MS)
          const state = await api.getServed(hash).finally(() => clearTimeout(waiting))
          print(options, state, () => servedText(state))
          return
        }
        const view = await api.getTask(hash)
        print(options, view, () => taskText(view))
      }),
    )
    .addCommand(
      addTargetOptions(
        new Command('cancel')
          .description('cancel a task this peer submitted')
          .argument('<hash>')
          .option('--reason <text>', 'why (kept in the cancellation)'),
      ).action(async (hash: string, options: TargetOptions & { reason?: string }) => {
        const ref = await (await connectDaemon(options)).cancelTask(hash, options.reason)
        print(options, ref, () => `cancelled ${hash}`)
      }),
    )
}

function submitCommand(): Command {
  return addTargetOptions(
    new Command('submit')
      .description('submit a task of a kind (echo, sha256, infer.generate, ...) to the mesh')
      .argument('<kind>')
      .requiredOption('--input <json|@file>', 'the task input as JSON, or @path to a JSON file')
      .option('--ram <size>', 'RAM the node needs, e.g. 16GiB', parseByteSize)
      .option('--vram <size>', 'VRAM the node needs (implies --gpu)', parseByteSize)
      .option('--gpu', 'the node needs a GPU')
      .option('--cores <n>', 'CPU cores the node needs', parseIntegerIn(0, 4096))
      .option('--model <name>', 'model the node must have')
      .option('--tag <tag>', 'tag the node must have (repeatable)', collectTag)
      .option(
        '--lease <duration>',
        `how long one attempt may run before it is given to another node (default ${formatDuration(TASK_DEFAULTS.leaseMs)})`,
        parseDurationMs,
      )
      .option(
        '--timeout <duration>',
        `deadline from now, e.g. 10m (default ${formatDuration(TASK_DEFAULTS.timeoutMs)})`,
        parseDurationMs,
      )
      .option(
        '--attempts <n>',
        `most attempts (of each peer's answer, with --fan-out; default ${TASK_DEFAULTS.maxAttempts})`,
        parseIntegerIn(1, 16),
      )
      .option(
        '--fan-out <n>',
        `run it on n different peers and keep the answer most agree on (default ${TASK_DEFAULTS.fanOut})`,
        parseIntegerIn(1, 16),
      )
      .option('--wait', 'follow the task until it ends and print its output'),
  ).action(async (kind: string, options: SubmitOptions) => {
    const api = await connectDaemon(options)
    const requirements = {
      ...(options.ram === undefined ? {} : { min_ram_bytes: options.ram }),
      ...(options.vram === undefined ? {} : { min_vram_bytes: options.vram, gpu: true }),
      ...(options.gpu ? { gpu: true } : {}),
      ...(options.cores === undefined ? {} : { min_cores: options.cores }),
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.tag === undefined ? {} : { tags: options.tag }),
    }
    const body: SubmitTaskBody = {
      kind,
      input: await readInput(options.input),
      requirements,
      ...(options.lease === undefined ? {} : { lease_ms: options.lease }),
      ...(options.timeout === undefined ? {} : { timeout_ms: options.timeout }),
      ...(options.attempts === undefined ? {} : { max_attempts: options.attempts }),
      ...(options.fanOut === undefined ? {} : { fan_out: options.fanOut }),
    }
    const ref = await api.submitTask(body)
    if (!options.wait) {
      print(options, ref, () => ref.action_hash)
      return
    }
    process.stderr.write(`ripple: submitted ${ref.action_hash}\n`)
    const view = await follow(api, ref.action_hash)
    const status = view.state.status
    if (options.json) process.stdout.write(`${printableJson(view)}\n`)
    else if (status === 'done') {
      process.stdout.write(`${printableJson(acceptedOutput(view))}\n`)
      reportVotes(view)
    }
    if (status !== 'done') throw new TaskEndedError(ref.action_hash, status, whyEnded(view))
  })
}

async function readInput(value: string): Promise<SubmitTaskBody['input']> {
  const text = value.startsWith('@') ? await readFile(value.slice(1), 'utf8') : value
  try {
    return JSON.parse(text) as SubmitTaskBody['input']
  } catch (err) {
    throw new InvalidArgumentError(`--input is not JSON: ${(err as Error).message}`)
  }
}

/** Prints the task's events on stderr until it ends; answers its final view. */
async function follow(api: ApiClient, hash: string): Promise<TaskView> {
  const started = Date.now()
  let midLine = false
  let load: { model: string; bar: ProgressBar } | null = null
  const endLoad = () => {
    load?.bar.end()
    load = null
  }
  // A line printed next starts on its own, after streamed text or a bar.
  const newLine = () => {
    endLoad()
    if (midLine) process.stderr.write('\n')
    midLine = false
  }
  const onEvent = async (event: TaskEvent) => {
    const elapsed = formatDuration(Date.now() - started)
    if (event.type === 'progress') {
      const { progress } = event
      const loading = LoadProgressEventSchema.safeParse(progress)
      // A runner's model load as a bar, streamed tokens as text, other progress as one line each.
      if (loading.success) {
        const { model, progress: loaded } = loading.data.data
        if (load?.model !== model) {
          newLine()
          load = { model, bar: progressBar(`loading ${model}`, { enabled: true }) }
        }
        load.bar.show(loaded)
      } else if (progress.type === 'token' && typeof progress.data === 'string') {
        endLoad()
        process.stderr.write(printableText(progress.data))
        midLine = true
      } else {
        newLine()
        process.stderr.write(
          `ripple: [${elapsed}] ${printable(`${progress.type} ${JSON.stringify(progress.data)}`)}\n`,
        )
      }
      return
    }
    newLine()
    if (event.type === 'waiting') {
      process.stderr.write(`ripple: waiting for a claim: ${printable(event.reason)}\n`)
      return
    }
    const where = event.assignee ? ` (attempt ${event.attempt} on ${short(event.assignee)})` : ''
    process.stderr.write(`ripple: [${elapsed}] ${event.status}${where}\n`)
  }
  // Cancelled once no peer will claim it: waiting longer would not help.
  return followToEnd(api, hash, {
    onEvent,
    onUnclaimable: (reason) => {
      throw new NobodyCanServeError(hash, reason)
    },
  })
}

function print<T>(options: TargetOptions, value: T, text: () => string): void {
  process.stdout.write(`${options.json ? printableJson(value) : text()}\n`)
}
