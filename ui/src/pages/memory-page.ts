/**
 * Memory: the shared vector memory's collections, how each is sharded over the peers (who holds which
 * shard, and this peer's copy), and a search box that queries a collection across the mesh (by text
 * through its embedding model, or by a vector), saying which shards answered.
 */
import { css, html, nothing } from 'lit'
import type { ReplyOf } from '../../../host/api/contract/index.ts'
import { time } from '../format.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'

type Collections = ReplyOf<'listCollections'>
type Detail = ReplyOf<'showCollection'>
type Result = ReplyOf<'queryCollection'>

/** The model name of a collection without one (vectors only). */
const NO_MODEL = 'none'

export class MemoryPage extends LivePage {
  static override properties = {
    ...LivePage.properties,
    collections: { state: true },
    detail: { state: true },
    result: { state: true },
    error: { state: true },
    searching: { state: true },
  }
  declare collections: Collections | null
  declare detail: Detail | null
  declare result: Result | null
  declare error: string | null
  declare searching: boolean
  #asked = false

  constructor() {
    super()
    this.collections = null
    this.detail = null
    this.result = null
    this.error = null
    this.searching = false
  }

  static override styles = [
    shared,
    css`
      tr.collection {
        cursor: pointer;
      }
      tr.collection.selected {
        background: #eef3ff;
      }
      .shards {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
        gap: 8px;
      }
      .shard {
        border: 1px solid #dde3ee;
        border-radius: 8px;
        padding: 8px 10px;
      }
      .search input[name='query'] {
        width: 100%;
        box-sizing: border-box;
      }
      td.metadata {
        font-family: ui-monospace, Menlo, Consolas, monospace;
        font-size: 12px;
        overflow-wrap: anywhere;
      }
    `,
  ]

  override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed)
    // Once the store (the client) is there, ask for the collections once; the buttons ask again.
    if (this.store?.client && !this.#asked) {
      this.#asked = true
      void this.#refresh()
    }
  }

  override render() {
    return html`
      <h2>Memory</h2>
      <p class="lead">Collections of vectors shared by the mesh: each is split into shards, each shard kept on several
        peers, and a search asks one live holder per shard and merges the best matches.</p>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      <section class="card">${this.#collections()}</section>
      ${this.detail ? this.#detail(this.detail) : nothing}
    `
  }

  #collections() {
    const list = this.collections?.collections
    if (!list) return html`<p class="muted">Loading…</p>`
    if (list.length === 0) {
      return html`<div class="empty">No collection yet. Make one with
        <code>ripple memory create notes --dimension 384 --model &lt;embedding model&gt;</code> (texts are embedded on a
        peer holding the model), then <code>ripple memory upsert notes --file docs.jsonl</code>.</div>`
    }
    return html`<table>
      <tr><th>Name</th><th>Dimension</th><th>Metric</th><th>Shards</th><th>Replication</th><th>Embedding model</th><th>Created</th></tr>
      ${list.map(
        (
          c,
        ) => html`<tr class="collection ${this.detail?.name === c.name ? 'selected' : ''}" data-collection=${c.name}
          @click=${() => this.#select(c.name)}>
          <td><b>${c.name}</b></td>
          <td>${c.collection.dimension}</td>
          <td>${c.collection.metric}</td>
          <td>${c.collection.shard_count}</td>
          <td>${c.collection.replication}</td>
          <td>${c.collection.embedding_model === NO_MODEL ? html`<span class="muted">none (vectors only)</span>` : c.collection.embedding_model}</td>
          <td>${time(c.created_at)}</td>
        </tr>`,
      )}
    </table>`
  }

  #detail(d: Detail) {
    const byText = d.collection.embedding_model !== NO_MODEL
    return html`<section class="card">
        <h3>${d.name}: shards</h3>
        <div class="shards">
          ${d.shards.map(
            (s) => html`<div class="shard" data-shard=${s.shard}>
              <b>Shard ${s.shard}</b>
              <div>${s.holders.length ? s.holders.map((h) => this.peerName(h)).join(', ') : html`<span class="error">no live holder</span>`}</div>
              ${s.here ? html`<div class="muted">here: ${s.here.docs} documents${s.here.ready ? '' : ', catching up'}</div>` : nothing}
            </div>`,
          )}
        </div>
      </section>
      <section class="card search">
        <h3>Search ${d.name}</h3>
        <form @submit=${(e: Event) => this.#search(e, d.name, byText)}>
          <p><input name="query" required placeholder=${byText ? 'a text: it is embedded with the collection’s model' : `a vector of ${d.collection.dimension} numbers, as JSON`} /></p>
          <div class="row">
            <label>Results <input name="k" type="number" min="1" max="100" value="10" /></label>
            <button type="submit" ?disabled=${this.searching}>${this.searching ? 'Searching…' : 'Search'}</button>
          </div>
        </form>
        ${this.result ? this.#result(this.result) : nothing}
      </section>`
  }

  #result(r: Result) {
    return html`<p class="muted result-shards">
        ${r.shards_answered.length} shard${r.shards_answered.length === 1 ? '' : 's'} answered${
          r.shards_missing.length
            ? html`; <span class="error">missing ${r.shards_missing.join(', ')}: matches there may be absent</span>`
            : ''
        }</p>
      ${
        r.hits.length === 0
          ? html`<p class="muted">No match.</p>`
          : html`<table class="hits">
              <tr><th>Id</th><th>Distance</th><th>Shard</th><th>Metadata</th></tr>
              ${r.hits.map(
                (h) => html`<tr class="hit" data-id=${h.id}>
                  <td><b>${h.id}</b></td><td>${h.distance.toFixed(4)}</td><td>${h.shard}</td>
                  <td class="metadata">${JSON.stringify(h.metadata)}</td>
                </tr>`,
              )}
            </table>`
      }`
  }

  async #refresh(): Promise<void> {
    const client = this.store?.client
    if (!client) return
    try {
      this.collections = await client.listCollections()
      this.error = null
    } catch (err) {
      this.error = (err as Error).message
    }
  }

  async #select(name: string): Promise<void> {
    const client = this.store?.client
    if (!client) return
    this.result = null
    try {
      this.detail = await client.showCollection(name)
      this.error = null
    } catch (err) {
      this.error = (err as Error).message
    }
  }

  async #search(event: Event, name: string, byText: boolean): Promise<void> {
    event.preventDefault()
    const client = this.store?.client
    if (!client) return
    const data = new FormData(event.target as HTMLFormElement)
    const text = String(data.get('query') ?? '').trim()
    const k = Number(data.get('k') || 10)
    this.searching = true
    try {
      let query: Parameters<typeof client.queryCollection>[1]
      if (byText) query = { text, k }
      else {
        const vector: unknown = JSON.parse(text)
        if (!Array.isArray(vector)) throw new Error('the vector must be a JSON array of numbers')
        query = { vector: vector as number[], k }
      }
      this.result = await client.queryCollection(name, query)
      this.error = null
    } catch (err) {
      this.error = (err as Error).message
    }
    this.searching = false
  }
}
customElements.define('memory-page', MemoryPage)
