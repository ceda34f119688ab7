/**
 * `ripple memory create|ls|show|upsert|query|delete`: the shared vector memory through the running
 * daemon. `upsert --file` takes JSON lines (one document a line: `{"id", "vector" | "text",
 * "metadata"}`), checks every line against the collection before sending any, then sends them in
 * batches with a progress bar.
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { Command, InvalidArgumentError, Option } from 'commander'
import { MetricSchema } from '../../../zomes-bindings/index.ts'
import {
  checkMetadata,
  checkVector,
  type MemoryDoc,
  MemoryDocSchema,
  parseMemoryInput,
} from '../../memory/memory-input.ts'
import type { Metadata } from '../../memory/shard-store.ts'
import { parseIntegerIn } from '../cli-options.ts'
import { alignRows, formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { progressBar } from '../progress-bar.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

const BATCH = 1000

export function memoryCommand(): Command {
  return new Command('memory')
    .description('the shared vector memory: collections sharded over the mesh')
    .addCommand(createCommand())
    .addCommand(lsCommand())
    .addCommand(showCommand())
    .addCommand(upsertCommand())
    .addCommand(queryCommand())
    .addCommand(deleteCommand())
}

function json<T>(what: string): (text: string) => T {
  return (text) => {
    try {
      return JSON.parse(text) as T
    } catch {
      throw new InvalidArgumentError(`${what} must be JSON`)
    }
  }
}

const print = (options: TargetOptions, value: unknown, text: () => string) =>
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`)

interface CreateOptions extends TargetOptions {
  dimension: number
  metric: 'cosine' | 'l2' | 'ip'
  shards: number
  replication: number
  model: string
}

function createCommand(): Command {
  return addTargetOptions(
    new Command('create')
      .argument('<name>', 'collection name (lowercase, digits, -)')
      .description('create a collection')
      .requiredOption('--dimension <n>', 'vector dimension', parseIntegerIn(1, 8192))
      .addOption(new Option('--metric <metric>', 'distance').choices(MetricSchema.options).default('cosine'))
      .option('--shards <n>', 'shard count', parseIntegerIn(1, 1024), 8)
      .option('--replication <n>', 'peers holding each shard', parseIntegerIn(1, 16), 2)
      .option('--model <name>', 'embedding model for texts (none: vectors only)', 'none'),
  ).action(async (name: string, options: CreateOptions) => {
    const view = await (await connectDaemon(options)).createCollection({
      name,
      dimension: options.dimension,
      metric: options.metric,
      shard_count: options.shards,
      replication: options.replication,
      embedding_model: options.model,
    })
    print(options, view, () => `${view.name} ${view.action_hash}`)
  })
}

function lsCommand(): Command {
  return addTargetOptions(new Command('ls').description('list the collections')).action(
    async (options: TargetOptions) => {
      const { collections } = await (await connectDaemon(options)).listCollections()
      print(options, { collections }, () =>
        collections.length === 0
          ? 'no collections yet: ripple memory create <name> --dimension <n>'
          : formatTable(
              ['name', 'dimension', 'metric', 'shards', 'replication', 'model'],
              collections.map(({ collection: c }) => [
                c.name,
                String(c.dimension),
                c.metric,
                String(c.shard_count),
                String(c.replication),
                c.embedding_model,
              ]),
            ),
      )
    },
  )
}

function showCommand(): Command {
  return addTargetOptions(
    new Command('show').argument('<name>', 'collection').description('a collection and where its shards are'),
  ).action(async (name: string, options: TargetOptions) => {
    const view = await (await connectDaemon(options)).showCollection(name)
    const c = view.collection
    print(options, view, () =>
      [
        alignRows([
          ['name', c.name],
          ['action hash', view.action_hash],
          ['dimension', String(c.dimension)],
          ['metric', c.metric],
          ['replication', String(c.replication)],
          ['embedding model', c.embedding_model],
        ]),
        formatTable(
          ['shard', 'holders', 'here'],
          view.shards.map((s) => [
            String(s.shard),
            s.holders.map((h) => `${h.slice(0, 12)}…`).join(' '),
            s.here === null
              ? '-'
              : `${s.here.docs} docs, digest ${s.here.digest}${s.here.ready ? '' : ' (catching up)'}`,
          ]),
        ),
      ].join('\n'),
    )
  })
}

interface UpsertOptions extends TargetOptions {
  file?: string
  id?: string
  vector?: number[]
  text?: string
  metadata: Metadata
}

function upsertCommand(): Command {
  return addTargetOptions(
    new Command('upsert')
      .argument('<name>', 'collection')
      .description('add or replace documents: one (--id with --vector or --text), or JSON lines from --file')
      .option('--file <path>', 'JSON lines, one document each: {"id", "vector" | "text", "metadata"}')
      .option('--id <id>', 'the document id')
      .option('--vector <json>', 'the vector, a JSON array of numbers', json<number[]>('--vector'))
      .option('--text <text>', 'a text the collection’s model embeds')
      .option(
        '--metadata <json>',
        'metadata, a JSON object of strings, numbers, booleans',
        json<Metadata>('--metadata'),
        {},
      ),
  ).action(async (name: string, options: UpsertOptions) => {
    const api = await connectDaemon(options)
    if (options.file === undefined) {
      if (options.id === undefined)
        throw new InvalidArgumentError('give --file, or --id with --vector or --text')
      const doc: MemoryDoc = {
        id: options.id,
        vector: options.vector,
        text: options.text,
        metadata: options.metadata,
      }
      const result = await api.upsertDocs(name, [doc])
      print(options, result, () => `upserted ${result.written}`)
      return
    }
    // Every line is checked first: a bad one stops the command before anything is written.
    const { collection } = await api.showCollection(name)
    let total = 0
    for await (const { doc, line } of readLines(options.file)) {
      const where = `line ${line}`
      const parsed = parseMemoryInput(MemoryDocSchema, doc, where)
      if (parsed.vector) checkVector(collection, parsed.vector, `${where}.vector`)
      checkMetadata(parsed.metadata, `${where}.metadata`)
      total++
    }
    // A file of two batches or fewer is written before a bar could help.
    const bar = progressBar(`upserting into ${name}`, { enabled: !options.json, quietBelow: 2 * BATCH })
    let written = 0
    let batch: MemoryDoc[] = []
    const send = async () => {
      written += (await api.upsertDocs(name, batch)).written
      batch = []
      bar.show({ stage: 'write', done: written, total, unit: 'items' })
    }
    for await (const { doc } of readLines(options.file)) {
      batch.push(doc as MemoryDoc)
      if (batch.length === BATCH) await send()
    }
    if (batch.length > 0) await send()
    bar.end()
    print(options, { written }, () => `upserted ${written}`)
  })
}

/** The JSON lines of a file (blank lines skipped), with their line numbers. */
async function* readLines(path: string): AsyncGenerator<{ doc: unknown; line: number }> {
  let line = 0
  for await (const text of createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    line++
    if (text.trim() === '') continue
    try {
      yield { doc: JSON.parse(text), line }
    } catch {
      throw new InvalidArgumentError(`${path} line ${line}: not JSON`)
    }
  }
}

interface QueryOptions extends TargetOptions {
  vector?: number[]
  text?: string
  k: number
  filter: Metadata
}

function queryCommand(): Command {
  return addTargetOptions(
    new Command('query')
      .argument('<name>', 'collection')
      .description('the k nearest documents to a vector or a text, over every shard')
      .option('--vector <json>', 'the query vector, a JSON array', json<number[]>('--vector'))
      .option('--text <text>', 'a text the collection’s model embeds')
      .option('-k <n>', 'how many', parseIntegerIn(1, 1000), 10)
      .option('--filter <json>', 'metadata that must match, a JSON object', json<Metadata>('--filter'), {}),
  ).action(async (name: string, options: QueryOptions) => {
    const result = await (await connectDaemon(options)).queryCollection(name, {
      vector: options.vector,
      text: options.text,
      k: options.k,
      filter: options.filter,
    })
    print(options, result, () => {
      const missing =
        result.shards_missing.length === 0
          ? `all ${result.shards_answered.length} shards answered`
          : `shards missing: ${result.shards_missing.join(', ')} (results may lack their documents)`
      const rows = result.hits.map((h) => [h.id, h.distance.toFixed(4), JSON.stringify(h.metadata)])
      return `${formatTable(['id', 'distance', 'metadata'], rows)}\n${missing}`
    })
  })
}

function deleteCommand(): Command {
  return addTargetOptions(
    new Command('delete')
      .argument('<name>', 'collection')
      .argument('<ids...>', 'document ids')
      .description('delete documents from every holder of their shards'),
  ).action(async (name: string, ids: string[], options: TargetOptions) => {
    const result = await (await connectDaemon(options)).deleteDocs(name, ids)
    print(options, result, () => `deleted ${result.written}`)
  })
}
