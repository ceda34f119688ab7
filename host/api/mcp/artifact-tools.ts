/**
 * Artifacts as tools and a resource: add content (text or base64) to IPFS with the mesh keeping it at
 * a replication, read one back (verified against its sha256), list them with who holds each. Bytes
 * travel inside MCP messages, so both ways are bounded; larger files go through `ripple artifact`.
 */
import { createHash } from 'node:crypto'
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { ArtifactSchema, CidSchema } from '../../../zomes-bindings/index.ts'
import type { LongOperationOptions } from '../../interface/progress.ts'
import type { ApiClient } from '../client/index.ts'
import { AddArtifactQuerySchema, type ArtifactView } from '../contract/index.ts'
import { jsonResult, progressSender } from './tool-reply.ts'

/** Most bytes one MCP message carries either way. */
export const MCP_ARTIFACT_MAX_BYTES = 8 * 1_048_576

const CidArgSchema = CidSchema.describe('the content identifier (bafy... or Qm...)')

/** What an agent needs of an artifact: what it is, where it came from, who keeps it. */
export function artifactSummary(view: ArtifactView) {
  const { entry, author, action_hash } = view.artifact
  return {
    cid: entry.cid,
    name: entry.name,
    mime_type: entry.mime_type,
    size: entry.size,
    sha256: entry.sha256,
    provenance: entry.provenance,
    replication: entry.replication,
    holders: view.holders.map((h) => h.author),
    registered_by: author,
    record: action_hash,
  }
}

/** Whether bytes of this MIME type read as text. */
function isText(mimeType: string): boolean {
  return /^text\/|[/+](json|xml|yaml|csv|javascript)$/.test(mimeType)
}

/** The artifact's bytes, at most `maxBytes`, checked against its sha256 as they arrive (`fetch` progress). */
async function readArtifact(
  api: ApiClient,
  cid: string,
  maxBytes: number,
  { signal, onProgress }: LongOperationOptions,
): Promise<{ view: ArtifactView; bytes: Buffer }> {
  const view = await api.showArtifact(cid, { signal })
  const { size } = view.artifact.entry
  if (size > maxBytes) {
    throw new Error(
      `${cid} is ${size} bytes, more than ${maxBytes} this call returns: fetch it with \`ripple artifact get ${cid} -o <file>\``,
    )
  }
  const content = await api.artifactContent(cid, { signal })
  const hash = createHash('sha256')
  const chunks: Uint8Array[] = []
  let received = 0
  for await (const chunk of content.body) {
    hash.update(chunk)
    chunks.push(chunk)
    received += chunk.byteLength
    onProgress?.({ stage: 'fetch', done: received, total: size, unit: 'bytes' })
  }
  if (hash.digest('hex') !== view.artifact.entry.sha256) {
    throw new Error(`the bytes received for ${cid} do not match its sha256; nothing returned`)
  }
  return { view, bytes: Buffer.concat(chunks) }
}

export function registerArtifactTools(server: McpServer, api: ApiClient): void {
  server.registerTool(
    'add_artifact',
    {
      title: 'Add an artifact',
      description: `Store content on this peer's IPFS (content-addressed: the same bytes always give the same CID) and register it on the mesh, which keeps it on \`replication\` peers. Give the content as \`text\` (UTF-8) or \`base64\`, at most ${MCP_ARTIFACT_MAX_BYTES} bytes. Answers the CID, sha256 and who holds it.`,
      inputSchema: {
        name: ArtifactSchema.shape.name.describe('a file name for people, e.g. "notes.md"'),
        text: z.string().optional().describe('the content as text (one of text or base64)'),
        base64: z.base64().optional().describe('the content as base64 (one of text or base64)'),
        mime_type: AddArtifactQuerySchema.shape.mime_type.describe(
          'its MIME type, e.g. "text/markdown"; default application/octet-stream, or text/plain for text',
        ),
        replication: ArtifactSchema.shape.replication
          .default(1)
          .describe('how many peers keep it (this one included)'),
      },
      annotations: { destructiveHint: false, openWorldHint: true },
    },
    async ({ name, text, base64, mime_type, replication }, extra) => {
      if ((text === undefined) === (base64 === undefined)) {
        throw new Error('give the content as exactly one of "text" or "base64"')
      }
      const bytes = text !== undefined ? Buffer.from(text, 'utf8') : Buffer.from(base64 ?? '', 'base64')
      if (bytes.byteLength > MCP_ARTIFACT_MAX_BYTES) {
        throw new Error(
          `the content is ${bytes.byteLength} bytes, more than ${MCP_ARTIFACT_MAX_BYTES} one call carries: add it with \`ripple artifact add <file>\``,
        )
      }
      const type = mime_type === 'application/octet-stream' && text !== undefined ? 'text/plain' : mime_type
      const view = await api.addArtifact(
        (async function* () {
          yield bytes
        })(),
        { name, mime_type: type, replication },
        { signal: extra.signal },
      )
      return jsonResult(artifactSummary(view))
    },
  )

  server.registerTool(
    'get_artifact',
    {
      title: 'Get an artifact',
      description: `Read an artifact's content by CID from whichever peer holds it, checked against its sha256: as text for text types, else base64 (at most ${MCP_ARTIFACT_MAX_BYTES} bytes). Also answers its provenance (the task and result that produced it, the model or tool) and its holders. Transfer progress comes as progress notifications.`,
      inputSchema: { cid: CidArgSchema },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ cid }, extra) => {
      const send = progressSender(extra)
      const { view, bytes } = await readArtifact(api, cid, MCP_ARTIFACT_MAX_BYTES, {
        signal: extra.signal,
        onProgress: ({ done, total }) => send(`${done} of ${total} bytes`),
      })
      const content = isText(view.artifact.entry.mime_type)
        ? { text: bytes.toString('utf8') }
        : { base64: bytes.toString('base64') }
      return jsonResult({ ...artifactSummary(view), ...content })
    },
  )

  server.registerTool(
    'list_artifacts',
    {
      title: 'List artifacts',
      description:
        'Every artifact registered on the mesh: CID, name, type, size, provenance, wanted replication and the peers that hold it now.',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (extra) => {
      const { artifacts } = await api.listArtifacts({ signal: extra.signal })
      return jsonResult({ artifacts: artifacts.map(artifactSummary) })
    },
  )

  server.registerResource(
    'artifact',
    new ResourceTemplate('ripple://artifacts/{cid}', {
      list: async (extra) => {
        const { artifacts } = await api.listArtifacts({ signal: extra.signal })
        return {
          resources: artifacts.map((v) => ({
            uri: `ripple://artifacts/${v.artifact.entry.cid}`,
            name: v.artifact.entry.name,
            mimeType: v.artifact.entry.mime_type,
            size: v.artifact.entry.size,
          })),
        }
      },
    }),
    {
      title: 'An artifact',
      description: `An artifact's content by CID (verified against its sha256; at most ${MCP_ARTIFACT_MAX_BYTES} bytes)`,
    },
    async (uri, { cid }, extra) => {
      const { view, bytes } = await readArtifact(api, String(cid), MCP_ARTIFACT_MAX_BYTES, {
        signal: extra.signal,
      })
      const mimeType = view.artifact.entry.mime_type
      const content = isText(mimeType) ? { text: bytes.toString('utf8') } : { blob: bytes.toString('base64') }
      return { contents: [{ uri: uri.href, mimeType, ...content }] }
    },
  )
}
