import { afterEach, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { MAX_MODEL_TOPICS, type ModelNews, modelTopic } from '../../../host/net/model-topics.ts'
import { memoryNode } from './memory-fixtures.ts'
import { stopAll, testNetwork, waitFor } from './net-fixtures.ts'

function newsOf(node: RippleNode): ModelNews[] {
  const heard: ModelNews[] = []
  node.modelTopics.addEventListener('news', (evt) => {
    heard.push(evt.detail)
    evt.detail.verdict('accept')
  })
  return heard
}

describe('model topics', () => {
  const nodes: RippleNode[] = []
  afterEach(async () => {
    await stopAll(nodes.splice(0))
  })

  async function trio(baseMs: number) {
    const network = testNetwork()
    const runner = await memoryNode({ network, modelTopics: { baseMs } })
    const at = runner.multiaddrs().map(String)
    const user = await memoryNode({ network, peers: at, modelTopics: { baseMs } })
    const bystander = await memoryNode({ network, peers: at, modelTopics: { baseMs } })
    nodes.push(runner, user, bystander)
    await waitFor('the three to meet', () => nodes.every((n) => n.peers.list().length === 2))
    return { runner, user, bystander }
  }

  it("reach the model's users only, named by a hash of the model", async () => {
    const { runner, user, bystander } = await trio(200)
    const userHeard = newsOf(user)
    const bystanderHeard = newsOf(bystander)
    expect(user.modelTopics.join('llama-3-8b')).toBe(true)
    bystander.modelTopics.join('qwen-2.5-7b')
    runner.modelTopics.join('llama-3-8b')
    await waitFor('the user to be seen on the topic', () =>
      runner.modelTopics.subscribers('llama-3-8b').some((p) => p.equals(user.peerId)),
    )
    expect(await runner.modelTopics.publish('llama-3-8b', new Uint8Array([7]))).toBe('sent')
    await waitFor('the user to hear it', () => userHeard.length === 1)
    expect(userHeard[0]).toMatchObject({ model: 'llama-3-8b', data: new Uint8Array([7]) })
    expect(userHeard[0]!.from.equals(runner.peerId)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(bystanderHeard).toHaveLength(0)
    expect(modelTopic(runner.identity, 'llama-3-8b')).toMatch(
      new RegExp(`^/ripple/${runner.identity.tag}/model/[0-9a-f]{32}$`),
    )
    expect(modelTopic(runner.identity, 'llama-3-8b')).not.toContain('llama')
    user.modelTopics.leave('llama-3-8b')
    expect(user.modelTopics.joined()).toEqual([])
  })

  it('hold news back to the pace: the latest of a burst goes out at the next turn', async () => {
    const { runner, user } = await trio(400)
    const heard = newsOf(user)
    user.modelTopics.join('llama-3-8b')
    runner.modelTopics.join('llama-3-8b')
    await waitFor(
      'the user to be seen on the topic',
      () => runner.modelTopics.subscribers('llama-3-8b').length > 0,
    )
    const sent = []
    for (let i = 1; i <= 5; i++)
      sent.push(await runner.modelTopics.publish('llama-3-8b', new Uint8Array([i])))
    expect(sent).toEqual(['sent', 'held', 'held', 'held', 'held'])
    await waitFor('the held news to go out', () => heard.length === 2)
    expect(heard.map((n) => n.data[0])).toEqual([1, 5])
    expect(runner.modelTopics.intervalMs('llama-3-8b')).toBe(400)
  })

  it(`are joined ${MAX_MODEL_TOPICS} at most`, async () => {
    const network = testNetwork()
    const node = await memoryNode({ network })
    nodes.push(node)
    for (let i = 0; i < MAX_MODEL_TOPICS; i++) expect(node.modelTopics.join(`model-${i}`)).toBe(true)
    expect(node.modelTopics.join('one-more')).toBe(false)
    expect(await node.modelTopics.publish('one-more', new Uint8Array([1]))).toBe('refused')
    expect(node.modelTopics.join('model-0')).toBe(true)
  })

  it('a subscription to a topic of another network is not recorded', async () => {
    const { runner, user } = await trio(200)
    const heard = newsOf(user)
    const foreign = '/ripple/0000000000000000/model/abc'
    const gossip = runner.libp2p.services.pubsub
    user.libp2p.services.pubsub.subscribe(foreign)
    gossip.subscribe(foreign)
    await new Promise((resolve) => setTimeout(resolve, 500))
    // Neither side records the other's subscription to a topic that is not this network's.
    expect(gossip.getSubscribers(foreign)).toEqual([])
    expect(heard).toHaveLength(0)
  })
})
