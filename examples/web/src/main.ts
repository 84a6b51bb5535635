// The example frontend: sign in with a demo identity of the local issuer, see the cases
// waiting on you, open one, act on it, and watch its timeline move live.
import './style.css';
import type { CombinedError, OperationResult } from '@urql/core';
import { connect, type API, type SocketState } from './client';
import { loadConfig } from './config';
import type { ActionResultFragment, CaseQuery, ResolutionAction, TimelineEventFragment, ViewerQuery } from './gql/graphql';
import {
  AcceptMutation,
  AppealMutation,
  CaseQuery as CaseDoc,
  CaseUpdatedSubscription,
  DenyMutation,
  EventAddedSubscription,
  MerchantRefundMutation,
  MerchantWinsMutation,
  RequestBuyerInfoMutation,
  RequestMerchantInfoMutation,
  RequestMoreInfoMutation,
  RespondMutation,
  TimelineQuery,
  ViewerQuery as ViewerDoc,
  WaitingOnMeQuery,
  WithdrawMutation,
} from './operations';
import { listIdentities, savedSession, saveSession, signIn, type Identity, type Session } from './signin';

const cfg = loadConfig();
const root = document.querySelector<HTMLElement>('#app')!;

let session: Session | null = savedSession(cfg.issuerURL);
let api: API | null = null;
let viewer: ViewerQuery['viewer'] | null = null;
let socketState: SocketState = 'closed';
let socketDetail = '';
let stopView: (() => void) | null = null; // ends the current view's subscription

// ---- a few DOM helpers (text is always set as text, never as HTML) ----

type Attrs = Record<string, string | boolean | ((e: Event) => void)>;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null) el.append(c);
  return el;
}
const words = (e: string) => e.toLowerCase().replace(/_/g, ' ');
const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

function showError(msg: string) {
  const el = document.querySelector<HTMLElement>('[data-testid=error]');
  if (el) {
    el.textContent = msg;
    el.hidden = !msg;
  }
}

function errorText(err: CombinedError): string {
  if (err.graphQLErrors.length) {
    return err.graphQLErrors.map((e) => `${(e.extensions?.code as string) || 'ERROR'}: ${e.message}`).join('; ');
  }
  return err.networkError ? `network: ${err.networkError.message}` : err.message;
}

/** The data of a result, or null after showing its error (signing out when the token is no longer accepted). */
function dataOf<T>(r: OperationResult<T>): T | null {
  if (r.error) {
    if (r.error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') || r.error.response?.status === 401) {
      signOut('Your sign-in is no longer accepted; sign in again.');
      return null;
    }
    showError(errorText(r.error));
    return null;
  }
  return r.data ?? null;
}

// ---- layout ----

function frame(...content: Node[]) {
  stopView?.();
  stopView = null;
  const who = viewer
    ? h(
        'div',
        { class: 'who' },
        h('span', { 'data-testid': 'viewer' }, `${viewer.user?.name || viewer.user?.username || 'Platform staff'} · ${words(viewer.role)}`,
          viewer.companies.length ? ` · merchant for ${viewer.companies.map((c) => c.title).join(', ')}` : ''),
        h('span', { 'data-testid': 'socket', class: `socket ${socketState}` }, socketLabel()),
        h('button', { type: 'button', 'data-testid': 'sign-out', onclick: () => signOut('') }, 'Sign out'),
      )
    : null;
  root.replaceChildren(
    h('header', {}, h('h1', {}, h('a', { href: '#/' }, 'Resolution center')), who),
    h('p', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true }),
    ...content,
  );
}

function socketLabel() {
  return socketState === 'connected' ? 'live' : socketState === 'connecting' ? 'connecting…' : socketDetail ? `offline (${socketDetail})` : 'offline';
}

function onSocket(s: SocketState, detail?: string) {
  socketState = s;
  socketDetail = detail || '';
  const el = document.querySelector<HTMLElement>('[data-testid=socket]');
  if (el) {
    el.textContent = socketLabel();
    el.className = `socket ${s}`;
  }
}

// ---- sign-in ----

async function renderSignIn(note = '') {
  viewer = null;
  const list = h('ul', { class: 'identities' });
  frame(
    h('section', { 'data-testid': 'signin' },
      h('h2', {}, 'Sign in'),
      h('p', {}, 'Pick a demo user: the local issuer signs a JWT for them, and the API verifies it against the issuer\'s keys.'),
      note ? h('p', { class: 'note' }, note) : null,
      list),
  );
  let identities: Identity[];
  try {
    identities = await listIdentities(cfg.issuerURL);
  } catch (e) {
    showError(`Cannot reach the issuer at ${cfg.issuerURL}: ${(e as Error).message}`);
    return;
  }
  for (const id of identities) {
    list.append(
      h('li', {},
        h('button', { type: 'button', 'data-testid': 'identity', 'data-sub': id.sub, onclick: () => void doSignIn(id) }, id.name),
        id.description ? h('span', { class: 'desc' }, ` ${id.description}`) : null),
    );
  }
  if (!identities.length) list.append(h('li', {}, 'The issuer offers no demo users.'));
}

async function doSignIn(id: Identity) {
  try {
    session = await signIn(cfg.issuerURL, id);
  } catch (e) {
    showError((e as Error).message);
    return;
  }
  saveSession(cfg.issuerURL, session);
  await start();
}

function signOut(note: string) {
  api?.close();
  api = null;
  session = null;
  saveSession(cfg.issuerURL, null);
  if (location.hash && location.hash !== '#/') history.replaceState(null, '', '#/');
  void renderSignIn(note);
}

async function start() {
  if (!session) return renderSignIn();
  api?.close();
  api = connect(cfg, session.token, onSocket);
  const v = dataOf(await api.client.query(ViewerDoc, {}).toPromise());
  if (!v) return;
  viewer = v.viewer;
  await route();
}

// ---- routing: #/ is the inbox, #/case/<id> a case ----

async function route() {
  if (!api || !viewer) return;
  const m = /^#\/case\/([^/]+)$/.exec(location.hash);
  if (m) await renderCase(decodeURIComponent(m[1]));
  else await renderInbox();
}
window.addEventListener('hashchange', () => void route());

// ---- the inbox: what waits on me ----

async function renderInbox() {
  const list = h('ul', { class: 'cases', 'data-testid': 'cases' });
  const waiting = h('span', { 'data-testid': 'waiting-count', class: 'count' }, '…');
  const total = h('span', { 'data-testid': 'total-count' }, '…');
  const summary = h('span', { 'data-testid': 'summary' });
  frame(
    h('section', { 'data-testid': 'inbox' },
      h('h2', {}, 'Waiting on me ', waiting),
      h('p', { class: 'muted' }, 'Listed: ', total, ' (soonest deadline first). ', summary)),
    list,
  );
  const d = dataOf(await api!.client.query(WaitingOnMeQuery, { first: 50 }).toPromise());
  if (!d) return;
  waiting.textContent = String(d.resolutionSummary.waitingOnMe);
  total.textContent = `${d.resolutions.totalCount} case${d.resolutions.totalCount === 1 ? '' : 's'}`;
  summary.textContent = `You can see ${d.resolutionSummary.total} cases, ${d.resolutionSummary.open} open.`;
  for (const { node: c } of d.resolutions.edges) {
    list.append(
      h('li', {},
        h('a', { href: `#/case/${encodeURIComponent(c.id)}`, 'data-testid': 'case-row', 'data-id': c.id },
          h('strong', {}, words(c.issue)),
          ` · ${c.company?.title ?? 'unknown merchant'} · ${c.user.name || c.user.username} · ${c.payment.total.amount} ${c.payment.total.currency}`,
          h('span', { class: 'status' }, words(c.status)),
          h('span', { class: 'due' }, `due ${when(c.dueDate)}`))),
    );
  }
  if (!d.resolutions.edges.length) list.append(h('li', { 'data-testid': 'inbox-empty' }, 'Nothing waits on you.'));
}

// ---- a case: its timeline, live, and the actions the viewer may take ----

type Case = NonNullable<CaseQuery['resolution']>;
type Input = { resolutionId: string; message: string; expectedVersion: number };

// What each action sends. ACCEPT, WITHDRAW and the decisions take an optional message.
const ACTIONS: Record<ResolutionAction, { label: string; needsMessage: boolean; run: (a: API, i: Input) => Promise<ActionResultFragment | null> }> = {
  RESPOND: { label: 'Send message', needsMessage: true, run: async (a, i) => dataOf(await a.client.mutation(RespondMutation, { input: i }).toPromise())?.respondToResolution ?? null },
  REQUEST_MORE_INFO: { label: 'Ask for more information', needsMessage: true, run: async (a, i) => dataOf(await a.client.mutation(RequestMoreInfoMutation, { input: i }).toPromise())?.requestMoreInfo ?? null },
  APPEAL: { label: 'Appeal', needsMessage: true, run: async (a, i) => dataOf(await a.client.mutation(AppealMutation, { input: i }).toPromise())?.appealResolution ?? null },
  DENY: { label: 'Deny', needsMessage: true, run: async (a, i) => dataOf(await a.client.mutation(DenyMutation, { input: i }).toPromise())?.denyResolution ?? null },
  ACCEPT: { label: 'Accept and refund', needsMessage: false, run: async (a, i) => dataOf(await a.client.mutation(AcceptMutation, { input: optional(i) }).toPromise())?.acceptResolution ?? null },
  WITHDRAW: { label: 'Withdraw', needsMessage: false, run: async (a, i) => dataOf(await a.client.mutation(WithdrawMutation, { input: optional(i) }).toPromise())?.withdrawResolution ?? null },
  REQUEST_BUYER_INFO: { label: 'Ask the customer', needsMessage: true, run: async (a, i) => dataOf(await a.client.mutation(RequestBuyerInfoMutation, { input: i }).toPromise())?.requestBuyerInfo ?? null },
  REQUEST_MERCHANT_INFO: { label: 'Ask the merchant', needsMessage: true, run: async (a, i) => dataOf(await a.client.mutation(RequestMerchantInfoMutation, { input: i }).toPromise())?.requestMerchantInfo ?? null },
  MERCHANT_WINS: { label: 'Decide for the merchant', needsMessage: false, run: async (a, i) => dataOf(await a.client.mutation(MerchantWinsMutation, { input: optional(i) }).toPromise())?.decideMerchantWins ?? null },
  MERCHANT_REFUND: { label: 'Decide for the customer', needsMessage: false, run: async (a, i) => dataOf(await a.client.mutation(MerchantRefundMutation, { input: optional(i) }).toPromise())?.decideMerchantRefund ?? null },
};
function optional(i: Input) {
  return i.message.trim() ? i : { resolutionId: i.resolutionId, expectedVersion: i.expectedVersion };
}

async function renderCase(id: string) {
  const a = api!;
  const [c, t] = await Promise.all([a.client.query(CaseDoc, { id }).toPromise(), a.client.query(TimelineQuery, { id, last: 50 }).toPromise()]);
  const cd = dataOf(c);
  const td = dataOf(t);
  if (!cd || !td) return;
  if (!cd.resolution || !td.resolution) {
    frame(h('p', { 'data-testid': 'not-found' }, 'No such case (or not yours to see). ', h('a', { href: '#/' }, 'Back')));
    return;
  }
  let kase: Case = cd.resolution;
  const header = h('div', { class: 'case-head' });
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'timeline' });
  const message = h('textarea', { 'data-testid': 'message', rows: '3', maxlength: '10000', placeholder: 'Your message' });
  const buttons = h('div', { class: 'actions' });
  const result = h('p', { 'data-testid': 'act-result', class: 'muted' });
  frame(
    h('p', {}, h('a', { href: '#/', 'data-testid': 'back' }, '← Waiting on me')),
    h('section', { 'data-testid': 'case', 'data-id': id }, header, h('h3', {}, 'Timeline'), timeline,
      h('form', { class: 'act', 'data-testid': 'act', onsubmit: (e: Event) => e.preventDefault() }, message, buttons, result)),
  );

  const drawHeader = () => {
    header.replaceChildren(
      h('h2', {}, words(kase.issue), ' ', h('span', { class: 'status', 'data-testid': 'case-status' }, kase.status)),
      h('p', { class: 'muted' },
        `${kase.company?.title ?? 'unknown merchant'} · customer ${kase.user.name || kase.user.username} · ${kase.payment.total.amount} ${kase.payment.total.currency} · due ${when(kase.dueDate)} · version `,
        h('span', { 'data-testid': 'case-version' }, String(kase.version))),
    );
    buttons.replaceChildren(
      ...kase.viewerActions.map((act) =>
        h('button', { type: 'button', 'data-testid': `action-${act}`, onclick: () => void perform(act) }, ACTIONS[act].label)),
    );
    if (!kase.viewerActions.length) buttons.append(h('span', { class: 'muted', 'data-testid': 'no-actions' }, 'Nothing for you to do on this case now.'));
  };

  const seen = new Set<number>();
  const addEvent = (e: TimelineEventFragment, live: boolean) => {
    if (seen.has(e.position)) return;
    seen.add(e.position);
    const li = h('li', { 'data-testid': 'event', 'data-position': String(e.position), class: live ? 'live' : '' },
      h('span', { class: 'when' }, when(e.createdAt)),
      h('strong', {}, ` ${words(e.reporterType)} ${words(e.action)}`),
      e.fromStatus !== e.toStatus ? h('span', { class: 'muted' }, ` (${words(e.fromStatus)} → ${words(e.toStatus)})`) : null,
      e.details ? h('p', { class: 'details' }, e.details) : null);
    // Keep position order (a live event can never precede one already shown, but the
    // mutation's own event and the subscription's copy may arrive in either order).
    const after = [...timeline.children].find((el) => Number((el as HTMLElement).dataset.position) > e.position);
    timeline.insertBefore(li, after ?? null);
  };

  const perform = async (act: ResolutionAction) => {
    const spec = ACTIONS[act];
    const text = message.value;
    if (spec.needsMessage && !text.trim()) {
      showError(`${spec.label}: write a message first.`);
      return;
    }
    showError('');
    buttons.querySelectorAll('button').forEach((b) => (b.disabled = true));
    const r = await spec.run(a, { resolutionId: kase.id, message: text, expectedVersion: kase.version });
    buttons.querySelectorAll('button').forEach((b) => (b.disabled = false));
    if (!r) return;
    if (r.userErrors.length) {
      showError(r.userErrors.map((e) => `${e.code}: ${e.message}`).join('; '));
      return;
    }
    if (r.resolution) kase = { ...kase, ...r.resolution };
    if (r.event) addEvent(r.event, false);
    message.value = '';
    result.textContent = `Done: ${words(r.event?.action ?? act)} (event #${r.event?.position ?? '?'}).`;
    drawHeader();
  };

  drawHeader();
  const edges = td.resolution.events.edges; // newest first
  for (const e of [...edges].reverse()) addEvent(e.node, false);

  // Live: every event after the newest one shown, as it commits (the other party's
  // actions, the deadline sweeper's, and ours), and the case's state as it changes.
  const events = a.client.subscription(EventAddedSubscription, { id, after: edges[0]?.cursor ?? null }).subscribe((r) => {
    if (r.error) return showError(`Live updates stopped: ${errorText(r.error)}`);
    const node = r.data?.resolutionEventAdded.node;
    if (node) addEvent(node, true);
  });
  const updates = a.client.subscription(CaseUpdatedSubscription, { id }).subscribe((r) => {
    if (r.error) return showError(`Live updates stopped: ${errorText(r.error)}`);
    const u = r.data?.resolutionUpdated;
    if (u && u.version >= kase.version) {
      kase = { ...kase, ...u };
      drawHeader();
    }
  });
  stopView = () => {
    events.unsubscribe();
    updates.unsubscribe();
  };
}

void start();
