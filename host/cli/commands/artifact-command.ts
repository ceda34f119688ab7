/**
 * `ripple artifact add|get|ls|show|pin|unpin`: artifacts on IPFS through the running daemon. `get`
 * writes to `<file>.part` and renames only once the bytes match the artifact's sha256 and size (the
 * daemon already checked every block against the CID).
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { Readable, Transform, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Command, InvalidArgumentError, Option } from 'commander'
import type { ArtifactView } from '../../api/contract/index.ts'
import { IMPORT_PROFILES } from '../../ipfs/import-profile.ts'
import { alignRows, formatBytes, formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { progressBar } from '../progress-bar.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

/** A transfer under 1 MiB shows no bar. */
const QUIET_BELOW = 1024 * 1024

export function artifactCommand(): Command {
  return new Command('artifact')
    .description('add, fetch and keep artifacts (files on IPFS with provenance)')
    .addCommand(addCommand())
    .addCommand(getCommand())
    .addCommand(lsCommand())
    .addCommand(showCommand())
    .addCommand(pinCommand())
    .addCommand(unpinCommand())
}

/** Thrown when the bytes fetched are not the artifact's. */
export class ArtifactVerifyError extends Error {
  static override readonly name = 'ArtifactVerifyError'
  constructor(cid: string, what: string) {
    super(`${cid}: ${what}; nothing was written`)
    this.name = 'ArtifactVerifyError'
  }
}

interface AddOptions extends TargetOptions {
  name?: string
  mimeType?: string
  replication: number
  profile?: (typeof IMPORT_PROFILES)[number]
}

function parseReplication(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError('a whole number from 1 to 16')
  return n
}

function addCommand(): Command {
  return addTargetOptions(
    new Command('add')
      .argument('<file>', 'file to add, or - for standard input')
      .description('import a file into IPFS, pin it here and register it as an artifact')
      .option('--name <name>', 'artifact name (default: the file name)')
      .option('--mime-type <type>', 'MIME type', 'application/octet-stream')
      .option('--replication <n>', 'peers that should keep it', parseReplication, 1)
      .addOption(
        new Option('--profile <profile>', "import profile (unixfs-v0-2015: Kubo's default CIDv0)").choices(
          IMPORT_PROFILES,
        ),
      ),
  ).action(async (file: string, options: AddOptions) => {
    const api = await connectDaemon(options)
    const stdin = file === '-'
    const total = stdin ? null : (await stat(file)).size
    const bar = progressBar('adding', { enabled: !options.json, quietBelow: QUIET_BELOW })
    let sent = 0
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of stdin ? process.stdin : createReadStream(file)) {
        sent += (chunk as Buffer).byteLength
        bar.show({ stage: 'import', done: sent, total, unit: 'bytes' })
        yield chunk as Buffer
      }
    }
    const view = await api.addArtifact(counted(), {
      name: options.name ?? (stdin ? 'stdin' : basename(file)),
      mime_type: options.mimeType,
      replication: options.replication,
      profile: options.profile,
    })
    bar.end()
    process.stdout.write(options.json ? `${JSON.stringify(view, null, 2)}\n` : `${view.artifact.entry.cid}\n`)
  })
}

function getCommand(): Command {
  return addTargetOptions(
    new Command('get')
      .argument('<cid>', 'the artifact CID')
      .option('-o, --output <file>', 'write to this file (default: standard output)')
      .description('fetch an artifact, verified against its CID and sha256'),
  ).action(async (cid: string, options: TargetOptions & { output?: string }) => {
    const api = await connectDaemon(options)
    const content = await api.artifactContent(cid)
    const bar = progressBar(`fetching ${cid}`, {
      enabled: options.output !== undefined,
      quietBelow: QUIET_BELOW,
    })
    const hash = createHash('sha256')
    let received = 0
    const check = new TransformCounter((chunk) => {
      hash.update(chunk)
      received += chunk.byteLength
      bar.show({ stage: 'fetch', done: received, total: content.size, unit: 'bytes' })
    })
    const part = options.output === undefined ? null : `${options.output}.part`
    const sink: Writable = part === null ? process.stdout : createWriteStream(part, { mode: 0o600 })
    try {
      await pipeline(Readable.fromWeb(content.body as never), check, sink)
      bar.end()
      if (received !== content.size)
        throw new ArtifactVerifyError(cid, `${received} bytes, expected ${content.size}`)
      const sha256 = hash.digest('hex')
      if (sha256 !== content.sha256)
        throw new ArtifactVerifyError(cid, `sha256 ${sha256}, expected ${content.sha256}`)
      if (part !== null && options.output !== undefined) await rename(part, options.output)
    } catch (err) {
      if (part !== null) await rm(part, { force: true })
      throw err
    }
    if (options.output !== undefined) {
      process.stderr.write(
        `ripple: ${cid} -> ${options.output} (${formatBytes(received)}, sha256 verified)\n`,
      )
    }
  })
}

/** Passes chunks through, calling `onChunk` on each. */
class TransformCounter extends Transform {
  constructor(onChunk: (chunk: Buffer) => void) {
    super({
      transform(chunk: Buffer, _encoding, done) {
        onChunk(chunk)
        done(null, chunk)
      },
    })
  }
}

function lsCommand(): Command {
  return addTargetOptions(new Command('ls').description('list artifacts and who holds them')).action(
    async (options: TargetOptions) => {
      const { artifacts } = await (await connectDaemon(options)).listArtifacts()
      if (options.json) {
        process.stdout.write(`${JSON.stringify(artifacts, null, 2)}\n`)
        return
      }
      const rows = artifacts.map((v) => [
        v.artifact.entry.cid,
        v.artifact.entry.name,
        formatBytes(v.artifact.entry.size),
        `${v.holders.length}/${v.artifact.entry.replication}`,
      ])
      process.stdout.write(`${formatTable(['CID', 'NAME', 'SIZE', 'HELD'], rows)}\n`)
      if (artifacts.length === 0) process.stdout.write('(no artifacts)\n')
    },
  )
}

function showCommand(): Command {
  return addTargetOptions(
    new Command('show')
      .argument('<cid>', 'the artifact CID')
      .description('an artifact, its provenance and holders'),
  ).action(async (cid: string, options: TargetOptions) => {
    printView(await (await connectDaemon(options)).showArtifact(cid), options)
  })
}

function pinCommand(): Command {
  return addTargetOptions(
    new Command('pin')
      .argument('<cid>', 'the artifact CID')
      .description('fetch, verify and keep an artifact here'),
  ).action(async (cid: string, options: TargetOptions) => {
    printView(await (await connectDaemon(options)).pinArtifact(cid), options)
  })
}

function unpinCommand(): Command {
  return addTargetOptions(
    new Command('unpin')
      .argument('<cid>', 'the artifact CID')
      .description("release this peer's commitment to keep an artifact and free its blocks"),
  ).action(async (cid: string, options: TargetOptions) => {
    printView(await (await connectDaemon(options)).unpinArtifact(cid), options)
  })
}

function printView(view: ArtifactView, options: TargetOptions): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(view, null, 2)}\n`)
    return
  }
  const a = view.artifact.entry
  const p = a.provenance
  const rows: [string, string][] = [
    ['cid', a.cid],
    ['name', a.name],
    ['type', a.mime_type],
    ['size', `${formatBytes(a.size)} (${a.size} bytes)`],
    ['sha256', a.sha256],
    ['author', view.artifact.author],
    ['tool', p.tool],
    ['task', p.task ?? '-'],
    ['result', p.result ?? '-'],
    ['model', p.model ?? '-'],
    ['inputs', p.input_cids.length === 0 ? '-' : p.input_cids.join(', ')],
    ['held', `${view.holders.length} of ${a.replication} wanted`],
    ...view.holders.map((h): [string, string] => ['holder', h.author]),
  ]
  process.stdout.write(`${alignRows(rows)}\n`)
}
