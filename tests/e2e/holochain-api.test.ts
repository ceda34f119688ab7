/**
 * `ripple up --admin-port` serves Holochain's admin and app WebSocket API, driven here by the official
 * @holochain/client (AdminWebsocket, AppWebsocket) against a real `ripple up` process: real sockets,
 * real signing, the same state the CLI shows.
 */
import { createHash, createPrivateKey, sign } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AdminWebsocket,
  type AppSignal,
  AppWebsocket,
  type CellId,
  encodeHashToBase64,
  getSigningCredentials,
  type Signal,
} from '@holochain/client'
import { encode } from '@msgpack/msgpack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StatusView } from '../../host/api/contract/index.ts'
import type { Heartbeat, NodeCapability, SignalEnvelope } from '../../zomes-bindings/index.ts'
import { isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

const ORIGIN = 'ripple-host'
let dataDir: string
let daemon: RunningRipple
let adminUrl: URL
let admin: AdminWebsocket
let appWs: AppWebsocket
let agentB64: string
let registryCell: CellId

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ripple-hc-api-'))
  const network = await isolatedNetwork(dataDir, 'hcapi', {
    heartbeat: { interval_ms: 200, stale_after_missed: 3, offline_after_ms: 2_000 },
  })
  daemon = await startRipple([
    ...['--network', network, '--data-dir', join(dataDir, 'peer'), '--api-port', '0'],
    ...['--admin-port', '0', '--name', 'hc-api-peer', '--log-level', 'warn'],
  ])
  adminUrl = new URL(/^ripple: holochain admin (\S+)$/m.exec(daemon.stdout())![1]!)
  agentB64 = /^ripple: agent (\S+)$/m.exec(daemon.stdout())![1]!
  admin = await AdminWebsocket.connect({ url: adminUrl, wsClientOptions: { origin: ORIGIN } })
}, 90_000)

afterAll(async () => {
  await appWs?.client.close()
  await admin?.client.close()
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

async function appSocket(token: number[], port: number, origin = ORIGIN): Promise<AppWebsocket> {
  return AppWebsocket.connect({ url: new URL(`ws://127.0.0.1:${port}`), token, wsClientOptions: { origin } })
}

describe("Holochain's conductor API on a running ripple up", { timeout: 60_000 }, () => {
  let appPort: number

  it('lists the app and its five cells, all of this agent', async () => {
    const apps = await admin.listApps({})
    expect(apps.map((a) => a.installed_app_id)).toEqual(['ripple'])
    const app = apps[0]!
    expect(encodeHashToBase64(app.agent_pub_key)).toBe(agentB64)
    expect(app.status).toEqual({ type: 'enabled' })
    expect(Object.keys(app.cell_info)).toEqual([
      'agent_registry',
      'resource_mesh',
      'policy_store',
      'artifact_index',
      'memory_shards',
    ])
    const info = app.cell_info.agent_registry![0]!
    if (info.type !== 'provisioned') throw new Error('expected a provisioned cell')
    registryCell = info.value.cell_id
    const cells = await admin.listCellIds()
    expect(cells).toHaveLength(5)
    for (const [dnaHash, agent] of cells) {
      expect([...dnaHash.subarray(0, 3)]).toEqual([0x84, 0x2d, 0x24])
      expect(encodeHashToBase64(agent)).toBe(agentB64)
    }
    expect(cells.map(([dna]) => encodeHashToBase64(dna))).toContain(encodeHashToBase64(registryCell[0]))
  })

  it('refuses a socket without an Origin or with a foreign one', async () => {
    await expect(AdminWebsocket.connect({ url: adminUrl })).rejects.toThrow(/400/)
    await expect(
      AdminWebsocket.connect({ url: adminUrl, wsClientOptions: { origin: 'https://evil.example' } }),
    ).rejects.toThrow(/400/)
  })

  it('attaches an app interface and issues tokens that open it once', async () => {
    ;({ port: appPort } = await admin.attachAppInterface({ allowed_origins: ORIGIN }))
    expect((await admin.listAppInterfaces()).map((i) => i.port)).toContain(appPort)
    const issued = await admin.issueAppAuthenticationToken({ installed_app_id: 'ripple' })
    expect(issued.token).toHaveLength(64)
    expect(issued.expires_at).toBeGreaterThan(Date.now() * 1000)
    appWs = await appSocket(issued.token, appPort)
    expect(encodeHashToBase64(appWs.myPubKey)).toBe(agentB64)
    // Single use: the same token does not open a second socket.
    await expect(appSocket(issued.token, appPort)).rejects.toMatchObject({ name: 'InvalidTokenError' })
  })

  it('refuses a token for its app on an interface bound to another app', async () => {
    const bound = await admin.attachAppInterface({ allowed_origins: ORIGIN, installed_app_id: 'other-app' })
    const { token } = await admin.issueAppAuthenticationToken({ installed_app_id: 'ripple' })
    await expect(appSocket(token, bound.port)).rejects.toMatchObject({ name: 'InvalidTokenError' })
  })

  it('issues a token for an app that is not installed, whose socket then finds no app', async () => {
    const { token } = await admin.issueAppAuthenticationToken({ installed_app_id: 'not-installed' })
    await expect(appSocket(token, appPort)).rejects.toMatchObject({ name: 'AppNotFound' })
  })

  it('refuses a wrong token and a foreign Origin on the app interface', async () => {
    await expect(appSocket([1, 2, 3], appPort)).rejects.toMatchObject({ name: 'InvalidTokenError' })
    const { token } = await admin.issueAppAuthenticationToken({ installed_app_id: 'ripple' })
    await expect(appSocket(token, appPort, 'https://evil.example')).rejects.toThrow(/400/)
  })

  it('calls a zome with signed calls and gets the record the CLI shows', async () => {
    const call = () =>
      appWs.callZome({
        role_name: 'agent_registry',
        zome_name: 'agent_registry',
        fn_name: 'get_capability',
        payload: agentB64,
      })
    await expect(call()).rejects.toMatchObject({ name: 'NoSigningCredentialsForCell' })
    await admin.authorizeSigningCredentials(registryCell)
    const record = (await call()) as { author: string; entry: NodeCapability }
    const status = await runRipple(['status', '--data-dir', join(dataDir, 'peer'), '--json'])
    expect(status.code, status.stderr).toBe(0)
    expect(record.author).toBe(agentB64)
    expect(record.entry).toEqual((JSON.parse(status.stdout) as StatusView).capability)
  })

  it('delivers heartbeats as app signals', async () => {
    const signal = await new Promise<AppSignal>((resolve) => {
      const off = appWs.on('signal', (s: Signal) => {
        if (s.type === 'app' && s.value.zome_name === 'agent_registry') {
          off()
          resolve(s.value)
        }
      })
    })
    expect(encodeHashToBase64(signal.cell_id[0])).toBe(encodeHashToBase64(registryCell[0]))
    const envelope = signal.payload as SignalEnvelope
    expect(envelope.from).toBe(agentB64)
    expect((envelope.payload as Heartbeat).queue_depth).toBeGreaterThanOrEqual(0)
  })

  it('refuses a bad signature, a replayed nonce and an expired call with Holochain error variants', async () => {
    const creds = getSigningCredentials(registryCell)!
    const seed = creds.keyPair.privateKey.subarray(0, 32)
    const key = createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: Buffer.from(seed).toString('base64url'),
        x: Buffer.from(creds.keyPair.publicKey).toString('base64url'),
      },
      format: 'jwk',
    })
    const signed = (expiresAt: number, capSecret: Uint8Array = creds.capSecret) => {
      const bytes = encode({
        cap_secret: capSecret,
        cell_id: registryCell,
        zome_name: 'agent_registry',
        fn_name: 'list_nodes',
        provenance: creds.signingKey,
        payload: encode(null),
        nonce: new Uint8Array(createHash('sha256').update(String(Math.random())).digest()),
        expires_at: expiresAt,
      })
      const signature = new Uint8Array(sign(null, createHash('sha512').update(bytes).digest(), key))
      return { bytes, signature }
    }
    const send = (call: { bytes: Uint8Array; signature: Uint8Array }) =>
      appWs.callZome({ cell_id: registryCell, ...call } as never)

    const good = signed((Date.now() + 60_000) * 1000)
    const nodes = (await send(good)) as { author: string }[]
    expect(nodes.map((n) => n.author)).toContain(agentB64)

    const flipped = { bytes: good.bytes, signature: good.signature.slice() }
    flipped.signature[0]! ^= 0xff
    await expect(send(flipped)).rejects.toMatchObject({ name: 'zome_call_authentication_failed' })
    await expect(send(good)).rejects.toMatchObject({
      name: 'zome_call_unauthorized',
      message: expect.stringContaining('Duplicate'),
    })
    await expect(send(signed((Date.now() - 1_000) * 1000))).rejects.toMatchObject({
      name: 'zome_call_unauthorized',
      message: expect.stringContaining('Expired'),
    })
    // Signed correctly, but with a secret no grant holds: the capability check refuses it.
    const wrongSecret = signed((Date.now() + 60_000) * 1000, new Uint8Array(64).fill(7))
    await expect(send(wrongSecret)).rejects.toMatchObject({
      name: 'zome_call_unauthorized',
      message: expect.stringContaining('BadCapGrant'),
    })
  })

  it('answers agent info and network stats on both interfaces', async () => {
    const infos = await admin.agentInfo({ dna_hashes: [registryCell[0]] })
    expect(infos).toHaveLength(1)
    const { agentInfo } = JSON.parse(infos[0]!) as { agentInfo: string }
    expect(JSON.parse(agentInfo)).toMatchObject({ isTombstone: false })
    expect((await appWs.agentInfo({ dna_hashes: null })).length).toBe(5)
    const adminStats = await admin.dumpNetworkStats()
    expect(adminStats.transport_stats.peer_urls[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    expect((await appWs.dumpNetworkStats()).backend).toBe('libp2p')
  })
})
