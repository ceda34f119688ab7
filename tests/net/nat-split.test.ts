/**
 * A model split across two homes behind their own NATs (tests/net/nat-lab.ts), carried through the
 * relay: each home lets models take 45 MiB (`--model-memory`), the tiny generated model needs about
 * 78 MiB with room to spare, so only both together hold it. home1 has the file and heads the split;
 * home2's RPC worker is reached over the mesh's tunnel on the relayed connection. The answer is the
 * one the whole file gives on one machine. Needs root, `ip` and `nft`; skipped, with the reason,
 * without them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { printableText } from '../../host/text/printable.ts'
import { type ModelsFixture, modelsFixture } from '../unit/inference/inference-fixtures.ts'
import { LabMesh, relayedLink } from './lab-mesh.ts'
import { natLabUnavailable } from './nat-lab.ts'

const unavailable = await natLabUnavailable()
if (unavailable !== null) console.log(`tests/net/nat-split.test.ts skipped: ${unavailable}`)

let mesh: LabMesh
let local: ModelsFixture

describe.skipIf(unavailable !== null)(
  'a model split across NATs through a relay',
  { timeout: 240_000 },
  () => {
    beforeAll(async () => {
      mesh = await LabMesh.start({ homes: 2, nat: 'random' })
      const limit = ['--model-memory', '45MiB']
      await Promise.all([mesh.startPeer(1, true, { args: limit }), mesh.startPeer(2, false, { args: limit })])
      local = await modelsFixture()
    }, 240_000)

    afterAll(async () => {
      await local?.close()
      await mesh?.stop()
    })

    it("heads the split at home1 with home2's memory, relayed, and answers as the whole file does", async () => {
      const [home1, home2] = mesh.peers
      await mesh.waitForPeer(home1!, home2!, (p) => relayedLink(p) && p.load?.model_free_bytes !== undefined)
      const whole = await mesh.cli(home1!, ['models', 'load', 'tiny'])
      expect(whole.stderr).toMatch(/needs about \d+ MiB, models may take \d+ MiB here/)
      const load = await mesh.cli(home1!, ['models', 'load', 'tiny', '--split'])
      expect(load.code, load.stderr).toBe(0)
      const listing = JSON.parse((await mesh.cli(home1!, ['models', 'ls', '--json'])).stdout) as {
        splits: { peers: { agent: string }[] }[]
      }
      expect(listing.splits[0]?.peers.map((p) => p.agent)).toEqual([home1!.agent, home2!.agent])
      const res = await mesh.cli(home1!, [
        'infer',
        'Tell me about the mesh.',
        '--model',
        'tiny',
        '--max-tokens',
        '12',
        '--seed',
        '1',
      ])
      expect(res.code, res.stderr).toBe(0)
      const solo = await (await local.manager.load('tiny')).generate({
        prompt: 'Tell me about the mesh.',
        max_tokens: 12,
        temperature: 0,
        seed: 1,
      })
      expect(res.stdout).toBe(`${printableText(solo.text)}\n`)
    })
  },
)
