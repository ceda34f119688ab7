/** The shell: sign-in, then a page per tab (the URL's hash names it), all fed by one live stream. */
import { css, html, LitElement, nothing } from 'lit'
import type { ApiClient } from '../../host/api/client/index.ts'
import { LiveStore } from './live-store.ts'
import { savedClient, signInError, signInWithCode, signInWithToken, signOut } from './session.ts'
import { shared } from './styles.ts'
import './pages/artifacts-page.ts'
import './pages/chat-page.ts'
import './pages/memory-page.ts'
import './pages/mesh-page.ts'
import './pages/models-page.ts'
import './pages/policies-page.ts'
import './pages/tasks-page.ts'
import './pages/usage-page.ts'

const PAGES = ['mesh', 'chat', 'tasks', 'models', 'artifacts', 'memory', 'policies', 'usage'] as const
type Page = (typeof PAGES)[number]

function pageFromHash(): Page {
  const name = location.hash.replace(/^#\/?/, '')
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : 'mesh'
}

export class RippleApp extends LitElement {
  static override properties = {
    store: { state: true },
    page: { state: true },
    error: { state: true },
    signingIn: { state: true },
  }
  declare store: LiveStore | null
  declare page: Page
  declare error: string | null
  declare signingIn: boolean

  constructor() {
    super()
    this.signingIn = false
    this.store = null
    this.page = pageFromHash()
    this.error = null
  }
  readonly #onHash = () => {
    this.page = pageFromHash()
  }
  readonly #onChange = () => this.requestUpdate()

  static override styles = [
    shared,
    css`
      :host {
        min-height: 100vh;
        background: #f1f4f9;
      }
      nav {
        display: flex;
        align-items: center;
        gap: 4px;
        padding: 10px 24px;
        background: #1d2b4f;
        color: #fff;
      }
      nav .brand {
        font-weight: 700;
        font-size: 18px;
        margin-right: 20px;
      }
      nav a {
        color: #d6e0ff;
        text-decoration: none;
        padding: 6px 12px;
        border-radius: 8px;
      }
      nav a[aria-current='page'] {
        background: #2f5bd3;
        color: #fff;
      }
      nav .right {
        margin-left: auto;
        display: flex;
        gap: 12px;
        align-items: center;
        font-size: 13px;
      }
      nav button {
        padding: 3px 10px;
        background: transparent;
        border-color: #8ea3d8;
      }
      .live {
        display: inline-flex;
        align-items: center;
        gap: 6px;
      }
      .dot {
        width: 9px;
        height: 9px;
        border-radius: 50%;
        background: #c43131;
      }
      .dot.on {
        background: #3bd16f;
      }
      main {
        padding: 20px 24px;
        max-width: 1280px;
        margin: 0 auto;
      }
      .signin {
        max-width: 460px;
        margin: 12vh auto;
      }
      .signin input {
        width: 100%;
        box-sizing: border-box;
        margin: 8px 0 12px;
      }
    `,
  ]

  override connectedCallback(): void {
    super.connectedCallback()
    window.addEventListener('hashchange', this.#onHash)
    void this.#start()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    window.removeEventListener('hashchange', this.#onHash)
    this.store?.stop()
  }

  /** A `?code=` in the address signs in once and is removed from it; else a token kept by this tab. */
  async #start(): Promise<void> {
    const url = new URL(location.href)
    const code = url.searchParams.get('code')
    if (code) {
      url.searchParams.delete('code')
      history.replaceState(null, '', url)
      this.signingIn = true
      try {
        this.#open(await signInWithCode(code))
      } catch (err) {
        this.error = signInError(err)
      }
      this.signingIn = false
      return
    }
    const saved = savedClient()
    if (saved) this.#open(saved)
  }

  #open(client: ApiClient): void {
    this.store?.stop()
    const store = new LiveStore(client)
    store.addEventListener('change', this.#onChange)
    store.start()
    this.store = store
    this.error = null
  }

  override render() {
    if (!this.store) return this.#signIn()
    const store = this.store
    return html`
      <nav>
        <span class="brand">Ripple</span>
        ${PAGES.map((p) => html`<a href="#/${p}" aria-current=${p === this.page ? 'page' : 'false'}>${p[0]!.toUpperCase()}${p.slice(1)}</a>`)}
        <span class="right">
          <span class="live" title="the live event stream"><span class="dot ${store.connected ? 'on' : ''}"></span>${store.connected ? 'live' : 'reconnecting…'}</span>
          <span>${store.status?.capability.name ?? ''}</span>
          <button @click=${() => this.#signOut()}>Sign out</button>
        </span>
      </nav>
      <main>${this.#page(store)}</main>
    `
  }

  #page(store: LiveStore) {
    switch (this.page) {
      case 'mesh':
        return html`<mesh-page .store=${store}></mesh-page>`
      case 'chat':
        return html`<chat-page .store=${store}></chat-page>`
      case 'tasks':
        return html`<tasks-page .store=${store}></tasks-page>`
      case 'models':
        return html`<models-page .store=${store}></models-page>`
      case 'artifacts':
        return html`<artifacts-page .store=${store}></artifacts-page>`
      case 'memory':
        return html`<memory-page .store=${store}></memory-page>`
      case 'policies':
        return html`<policies-page .store=${store}></policies-page>`
      case 'usage':
        return html`<usage-page .store=${store}></usage-page>`
    }
  }

  #signIn() {
    return html`<main>
      <form class="card signin" @submit=${(e: Event) => this.#signInWithToken(e)}>
        <h2>Sign in to Ripple</h2>
        ${
          this.signingIn
            ? html`<p class="muted">Signing in with the login link…</p>`
            : html`<p class="lead">Open the link <code>ripple up</code> printed (it signs in once), or paste the API token
                (<code>ripple token</code> prints it). API keys are for agents: they reach <code>/v1</code> and <code>/mcp</code> only.</p>`
        }
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        <label style="display:block;margin:0">API token
          <input name="token" type="password" autocomplete="off" required />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </main>`
  }

  async #signInWithToken(event: Event): Promise<void> {
    event.preventDefault()
    const token = String(new FormData(event.target as HTMLFormElement).get('token') ?? '').trim()
    try {
      this.#open(await signInWithToken(token))
    } catch (err) {
      this.error = signInError(err)
    }
  }

  #signOut(): void {
    signOut()
    this.store?.stop()
    this.store = null
  }
}
customElements.define('ripple-app', RippleApp)
