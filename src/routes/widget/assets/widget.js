/*
 * <loyalty-panel program="prg_…" token-endpoint="/my/loyalty-token" lang="zh-TW">: the member's
 * loyalty panel for any shop page. No dependencies; everything lives in a shadow root, themed
 * with CSS custom properties (--loyalty-accent, --loyalty-bg, --loyalty-fg, --loyalty-muted,
 * --loyalty-radius, --loyalty-font).
 *
 * Token: POSTs to `token-endpoint` (the shop's own server, with the shopper's cookies) for
 * `{ token, expiresAt }` — a member token, or `{ assertion, expiresAt }` signed with the widget
 * secret — or calls `element.tokenProvider()` when the page sets one. No token (401/204 or
 * null): the signed-out view. Refreshed a minute before it expires.
 */
(() => {
  if (customElements.get("loyalty-panel")) return;
  const scriptOrigin = document.currentScript ? new URL(document.currentScript.src, location.href).origin : location.origin;

  const TEXT = {
    en: {
      title: "Rewards",
      balance: "Points",
      pending: "pending",
      reserved: "held at checkout",
      expiring: (p, d) => `${p} points expire on ${d}`,
      tier: "Tier",
      topTier: (t) => `You're at our top tier, ${t}`,
      more: (steps, next) => `${steps} to reach ${next}`,
      spend: (m) => `${m} more`,
      orders: (n) => `${n} more order${n === 1 ? "" : "s"}`,
      points: (n) => `${n} more points`,
      or: " or ",
      and: " and ",
      invitation: (next) => `${next} is by invitation only`,
      rewards: "Rewards",
      noRewards: "No rewards yet.",
      cost: (p) => `${p} points`,
      redeem: "Redeem",
      redeemFor: (name) => `Redeem ${name}`,
      confirm: (name, p) => `Redeem ${name} for ${p} points?`,
      yes: "Redeem",
      cancel: "Cancel",
      couponIs: "Your coupon code",
      copy: "Copy",
      copied: "Copied",
      share: "Share",
      needMore: (p) => `${p} more points needed`,
      unavailable: "Not available",
      memberCode: "Member code",
      memberCodeHint: "Show a code at the till to collect points and use your rewards.",
      showCode: "Show my code",
      hideCode: "Hide",
      codeRefreshes: "The code changes every 30 seconds.",
      referral: "Invite friends",
      referralHint: "Share your link: you both earn points when they shop.",
      referralLink: "Your referral link",
      referrals: (n) => `${n} friend${n === 1 ? "" : "s"} joined`,
      activity: "Recent activity",
      noActivity: "Nothing yet.",
      signedOutTitle: "Join our rewards",
      signedOutBody: "Earn points on every order and turn them into coupons.",
      join: "Join now",
      signIn: "Sign in",
      error: "Rewards are unavailable right now.",
      retry: "Try again",
      loading: "Loading rewards…",
      working: "Redeeming…",
    },
    "zh-TW": {
      title: "會員點數",
      balance: "可用點數",
      pending: "待入帳",
      reserved: "結帳保留中",
      expiring: (p, d) => `${p} 點將於 ${d} 到期`,
      tier: "會員等級",
      topTier: (t) => `您已是最高等級 ${t}`,
      more: (steps, next) => `${steps}即可升級 ${next}`,
      spend: (m) => `再消費 ${m}`,
      orders: (n) => `再完成 ${n} 筆訂單`,
      points: (n) => `再累積 ${n} 點`,
      or: "或",
      and: "並",
      invitation: (next) => `${next} 僅限受邀`,
      rewards: "兌換好禮",
      noRewards: "目前沒有可兌換的好禮。",
      cost: (p) => `${p} 點`,
      redeem: "兌換",
      redeemFor: (name) => `兌換 ${name}`,
      confirm: (name, p) => `確定以 ${p} 點兌換「${name}」嗎？`,
      yes: "確定兌換",
      cancel: "取消",
      couponIs: "您的優惠碼",
      copy: "複製",
      copied: "已複製",
      share: "分享",
      needMore: (p) => `還差 ${p} 點`,
      unavailable: "目前無法兌換",
      memberCode: "會員條碼",
      memberCodeHint: "結帳時出示會員碼即可累積點數、使用優惠。",
      showCode: "顯示會員碼",
      hideCode: "隱藏",
      codeRefreshes: "會員碼每 30 秒更新一次。",
      referral: "邀請好友",
      referralHint: "分享您的專屬連結，好友消費後雙方都能獲得點數。",
      referralLink: "您的推薦連結",
      referrals: (n) => `已有 ${n} 位好友加入`,
      activity: "最近紀錄",
      noActivity: "尚無紀錄。",
      signedOutTitle: "加入會員",
      signedOutBody: "每筆訂單都能累積點數，兌換優惠券。",
      join: "立即加入",
      signIn: "登入",
      error: "目前無法載入會員資訊。",
      retry: "重試",
      loading: "載入中…",
      working: "兌換中…",
    },
  };

  const STYLE = `
    :host { display: block; font-family: var(--loyalty-font, system-ui, -apple-system, "Segoe UI", "Noto Sans TC", sans-serif);
      color: var(--loyalty-fg, #1f2328); --accent: var(--loyalty-accent, #0b5cad); --muted: var(--loyalty-muted, #57606a);
      --bg: var(--loyalty-bg, #ffffff); --radius: var(--loyalty-radius, 12px); }
    * { box-sizing: border-box; }
    .panel { background: var(--bg); border: 1px solid #d0d7de; border-radius: var(--radius); padding: 16px; display: grid; gap: 16px; max-width: 100%; }
    h2 { font-size: 1.15rem; margin: 0; }
    h3 { font-size: 1rem; margin: 0 0 8px; }
    section { display: grid; gap: 6px; }
    .big { font-size: 2rem; font-weight: 700; line-height: 1.1; }
    .muted { color: var(--muted); font-size: 0.9rem; }
    .bar { height: 10px; border-radius: 5px; background: #e6e9ed; overflow: hidden; }
    .bar > span { display: block; height: 100%; background: var(--accent); }
    ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
    .reward { display: flex; justify-content: space-between; align-items: center; gap: 12px; padding: 10px; border: 1px solid #d0d7de; border-radius: calc(var(--radius) / 2); flex-wrap: wrap; }
    .reward .name { font-weight: 600; }
    button { font: inherit; border-radius: 8px; border: 1px solid var(--accent); background: var(--accent); color: #fff; padding: 8px 14px; cursor: pointer; min-height: 40px; }
    button.secondary { background: transparent; color: var(--accent); }
    button:disabled { opacity: 0.55; cursor: not-allowed; }
    button:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    .confirm, .coupon { border: 2px solid var(--accent); border-radius: calc(var(--radius) / 2); padding: 12px; display: grid; gap: 8px; }
    .code { font-family: ui-monospace, monospace; font-size: 1.25rem; letter-spacing: 0.05em; font-weight: 700; word-break: break-all; }
    .row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    input[readonly] { font: inherit; flex: 1 1 12rem; min-width: 0; padding: 8px; border: 1px solid #d0d7de; border-radius: 8px; background: #f6f8fa; color: inherit; }
    .activity li { display: flex; justify-content: space-between; gap: 12px; font-size: 0.95rem; }
    .plus { color: #116329; font-weight: 600; } .minus { color: #a40e26; font-weight: 600; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    a.cta { display: inline-block; background: var(--accent); color: #fff; padding: 10px 16px; border-radius: 8px; text-decoration: none; font-weight: 600; }
  `;

  // A constructed stylesheet is not subject to the page's style-src CSP; a <style> element is the fallback.
  let sheet = null;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
  } catch {
    sheet = null;
  }

  const escapeHtml = (s) =>
    String(s ?? "").replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);

  class LoyaltyPanel extends HTMLElement {
    static get observedAttributes() {
      return ["program", "token-endpoint", "lang"];
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      if (sheet) this.shadowRoot.adoptedStyleSheets = [sheet];
      this.tokenProvider = null;
      this.state = { phase: "loading" };
      this.credential = null;
      this.refreshTimer = null;
      this.generation = 0;
    }

    connectedCallback() {
      this.start();
    }

    disconnectedCallback() {
      clearTimeout(this.refreshTimer);
      clearTimeout(this.codeTimer);
    }

    attributeChangedCallback(_name, before, after) {
      if (this.isConnected && before !== null && before !== after) this.start();
    }

    /** Sign in again (a page calls this after its own sign-in or sign-out). */
    refresh() {
      return this.start();
    }

    get locale() {
      // The page's choice first, then the program's default locale, then the page and browser.
      const programLocale = this.state?.me?.program.defaultLocale || "";
      const lang = this.getAttribute("lang") || programLocale || document.documentElement.lang || navigator.language || "en";
      return /^zh/i.test(lang) ? "zh-TW" : "en";
    }

    get t() {
      return TEXT[this.locale];
    }

    get apiBase() {
      return (this.getAttribute("api-base") || scriptOrigin).replace(/\/$/, "");
    }

    async start() {
      // Only the latest start renders: an earlier one still in flight is dropped.
      const run = ++this.generation;
      clearTimeout(this.refreshTimer);
      this.state = { phase: "loading" };
      this.render();
      try {
        const credential = await this.fetchCredential();
        if (run !== this.generation) return;
        this.credential = credential;
        if (!this.credential) {
          this.state = { phase: "signed-out" };
          return this.render();
        }
        await this.load();
      } catch (err) {
        if (run !== this.generation) return;
        this.state = { phase: "error", message: String(err?.message ? err.message : err) };
        this.render();
      }
    }

    /** { bearer, programHeader, expiresAt } from the page's provider or the shop's endpoint; null: signed out. */
    async fetchCredential() {
      let answer = null;
      if (typeof this.tokenProvider === "function") answer = await this.tokenProvider();
      else if (this.getAttribute("token-endpoint")) {
        const res = await fetch(this.getAttribute("token-endpoint"), {
          method: "POST",
          credentials: "same-origin",
          headers: { accept: "application/json" },
        });
        if (res.status === 401 || res.status === 204 || res.status === 404) return null;
        if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
        answer = await res.json();
      }
      if (!answer || !(answer.token || answer.assertion)) return null;
      const expiresAt = Date.parse(answer.expiresAt) || Date.now() + 10 * 60_000;
      // Refresh a minute early (at least 10 s from now), so a request never carries an expired token.
      const wait = Math.max(10_000, expiresAt - Date.now() - 60_000);
      this.refreshTimer = setTimeout(() => this.renewCredential(), Math.min(wait, 2_147_000_000));
      return { bearer: answer.token || answer.assertion, assertion: !answer.token, expiresAt };
    }

    async renewCredential() {
      try {
        const next = await this.fetchCredential();
        if (!next) return this.start();
        this.credential = next;
      } catch {
        this.refreshTimer = setTimeout(() => this.renewCredential(), 30_000);
      }
    }

    async api(method, path, body, extraHeaders = {}) {
      const headers = { authorization: `Bearer ${this.credential.bearer}`, accept: "application/json", ...extraHeaders };
      if (this.credential.assertion) headers["x-program-id"] = this.getAttribute("program") || "";
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${this.apiBase}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = res.status === 204 ? null : await res.json().catch(() => null);
      if (!res.ok) {
        const error = new Error(json?.error?.message || `HTTP ${res.status}`);
        error.status = res.status;
        error.code = json?.error?.code;
        throw error;
      }
      return json;
    }

    async load() {
      const me = await this.api("GET", "/v1/me");
      const base = `/v1/members/${encodeURIComponent(me.id)}`;
      const optional = (p) => p.catch((err) => (err.status === 404 ? null : Promise.reject(err)));
      const [balance, tier, rewards, ledger, referrals] = await Promise.all([
        this.api("GET", `${base}/balance`),
        optional(this.api("GET", `${base}/tier`)),
        this.api("GET", `${base}/rewards`),
        this.api("GET", `${base}/ledger?limit=8`),
        optional(this.api("GET", `${base}/referrals?limit=1`)),
      ]);
      this.state = { ...this.state, phase: "ready", me, balance, tier, rewards: rewards.data, ledger: ledger.data, referrals };
      this.render();
    }

    money(minor) {
      const currency = this.state.me ? this.state.me.program.currency : "USD";
      let digits = 2;
      try {
        digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
      } catch {
        // an unknown currency code: two decimals
      }
      const display = this.locale === "zh-TW" && currency === "TWD" ? "symbol" : "narrowSymbol";
      return new Intl.NumberFormat(this.locale, {
        style: "currency",
        currency,
        currencyDisplay: display,
        maximumFractionDigits: digits,
      }).format(minor / 10 ** digits);
    }

    number(n) {
      return new Intl.NumberFormat(this.locale).format(n);
    }

    date(iso) {
      return new Intl.DateTimeFormat(this.locale, { year: "numeric", month: "short", day: "numeric" }).format(new Date(iso));
    }

    tierMessage(tier) {
      const t = this.t;
      if (!tier.next) return t.topTier(tier.current.name);
      if (!tier.requirements || tier.requirements.length === 0) return t.invitation(tier.next.name);
      const steps = tier.requirements
        .filter((r) => r.missing > 0)
        .map((r) =>
          r.metric === "spend"
            ? t.spend(this.money(r.missing))
            : r.metric === "orders"
              ? t.orders(this.number(r.missing))
              : t.points(this.number(r.missing)),
        );
      if (steps.length === 0) return tier.message;
      return t.more(steps.join(tier.mode === "all" ? t.and : t.or), tier.next.name);
    }

    render() {
      const t = this.t;
      const s = this.state;
      let body;
      if (s.phase === "loading") body = `<p class="muted" role="status">${t.loading}</p>`;
      else if (s.phase === "error")
        body = `<p role="alert">${t.error}</p><div><button type="button" data-action="retry">${t.retry}</button></div>`;
      else if (s.phase === "signed-out") body = this.signedOut();
      else body = this.ready();
      this.shadowRoot.innerHTML = `${sheet ? "" : `<style>${STYLE}</style>`}
        <div class="panel" role="region" aria-label="${escapeHtml(t.title)}" lang="${this.locale}" data-state="${s.phase}">
          <h2>${escapeHtml(s.me ? s.me.program.name : t.title)}</h2>
          ${body}
          <p class="visually-hidden" aria-live="polite" id="live">${escapeHtml(s.announce || "")}</p>
        </div>`;
      // Set through the CSSOM, not a style attribute: pages with a strict style-src CSP allow that.
      this.shadowRoot.querySelectorAll("[data-width]").forEach((el) => {
        el.style.width = `${el.dataset.width}%`;
      });
      this.shadowRoot.querySelectorAll("[data-action]").forEach((el) => {
        el.addEventListener("click", (e) => this.onAction(e.currentTarget.dataset.action, e.currentTarget.dataset.id));
      });
      if (s.focus) {
        const target = this.shadowRoot.querySelector(s.focus);
        if (target) target.focus();
        s.focus = null;
      }
    }

    signedOut() {
      const t = this.t;
      const join = this.getAttribute("join-url");
      const signIn = this.getAttribute("sign-in-url");
      return `<section aria-labelledby="so-title"><h3 id="so-title">${t.signedOutTitle}</h3><p>${t.signedOutBody}</p>
        <div class="row">${join ? `<a class="cta" href="${escapeHtml(join)}">${t.join}</a>` : ""}
        ${signIn ? `<a href="${escapeHtml(signIn)}">${t.signIn}</a>` : ""}</div></section>`;
    }

    ready() {
      const t = this.t;
      const { balance, tier, rewards, ledger, referrals, me } = this.state;
      const expiring = balance.expiring[0];
      const parts = [];
      parts.push(`<section aria-labelledby="bal-title"><h3 id="bal-title">${t.balance}</h3>
        <div class="big" data-testid="balance">${this.number(balance.available)}</div>
        ${balance.pending ? `<div class="muted" data-testid="pending">${this.number(balance.pending)} ${t.pending}</div>` : ""}
        ${balance.reserved ? `<div class="muted">${this.number(balance.reserved)} ${t.reserved}</div>` : ""}
        ${expiring ? `<div class="muted" data-testid="expiring">${t.expiring(this.number(expiring.points), this.date(expiring.expiresAt))}</div>` : ""}
      </section>`);
      // The rotating code a POS identifies the member by (GET /v1/me/code), fetched only when asked for.
      const code = this.state.memberCode;
      parts.push(
        `<section aria-labelledby="code-title"><h3 id="code-title">${t.memberCode}</h3>${
          code
            ? `<div class="code" data-testid="member-code" aria-live="polite">${escapeHtml(code.code.replace(/(\d{4})(?=\d)/g, "$1 "))}</div>
        <div class="muted">${t.codeRefreshes}</div><div class="row"><button type="button" class="secondary" data-action="hide-code">${t.hideCode}</button></div>`
            : `<p class="muted">${t.memberCodeHint}</p><div class="row"><button type="button" data-action="show-code">${t.showCode}</button></div>`
        }</section>`,
      );
      if (tier) {
        parts.push(`<section aria-labelledby="tier-title"><h3 id="tier-title">${t.tier}: <span data-testid="tier-name">${escapeHtml(tier.current.name)}</span></h3>
          <div class="bar" role="progressbar" aria-label="${escapeHtml(tier.next ? tier.next.name : tier.current.name)}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${tier.percent}"><span data-width="${Math.max(0, Math.min(100, Number(tier.percent) || 0))}"></span></div>
          <div class="muted" data-testid="tier-progress">${escapeHtml(this.tierMessage(tier))}</div></section>`);
      }
      parts.push(`<section aria-labelledby="rw-title"><h3 id="rw-title">${t.rewards}</h3>${this.rewardsList(rewards)}</section>`);
      const link = `${this.getAttribute("referral-url") || `${location.origin}/`}${(this.getAttribute("referral-url") || "").includes("?") ? "&" : "?"}ref=${encodeURIComponent(me.referralCode)}`;
      const joined = referrals ? referrals.totals.count : 0;
      parts.push(`<section aria-labelledby="ref-title"><h3 id="ref-title">${t.referral}</h3><p class="muted">${t.referralHint}</p>
        <div class="row"><label class="visually-hidden" for="ref-link">${t.referralLink}</label>
        <input id="ref-link" readonly value="${escapeHtml(link)}" data-testid="referral-link">
        <button type="button" class="secondary" data-action="copy-link">${this.state.copied === "link" ? t.copied : t.copy}</button>
        ${navigator.share ? `<button type="button" class="secondary" data-action="share">${t.share}</button>` : ""}</div>
        ${joined ? `<div class="muted">${t.referrals(joined)}</div>` : ""}</section>`);
      const rows = ledger
        .map(
          (e) =>
            `<li><span>${escapeHtml(e.reason || e.type)} <span class="muted">${this.date(e.createdAt)}</span></span><span class="${e.points >= 0 ? "plus" : "minus"}">${e.points >= 0 ? "+" : "−"}${this.number(Math.abs(e.points))}</span></li>`,
        )
        .join("");
      parts.push(
        `<section aria-labelledby="act-title"><h3 id="act-title">${t.activity}</h3>${rows ? `<ul class="activity" data-testid="activity">${rows}</ul>` : `<p class="muted">${t.noActivity}</p>`}</section>`,
      );
      return parts.join("");
    }

    rewardsList(rewards) {
      const t = this.t;
      const s = this.state;
      const canRedeem = s.me.scopes.includes("redeem");
      let html = "";
      if (s.coupon)
        html += `<div class="coupon" role="status" data-testid="coupon"><div>${t.couponIs}</div><div class="code" id="coupon-code" tabindex="-1">${escapeHtml(s.coupon.code)}</div>
          <div class="row"><button type="button" class="secondary" data-action="copy-coupon">${s.copied === "coupon" ? t.copied : t.copy}</button></div></div>`;
      if (rewards.length === 0) return `${html}<p class="muted">${t.noRewards}</p>`;
      const items = rewards.map((r) => {
        const pending = s.confirming === r.id;
        const short = Math.max(0, r.pointsCost - s.balance.available);
        const note = !r.eligible ? t.unavailable : !r.affordable ? t.needMore(this.number(short)) : "";
        const action = pending
          ? `<div class="confirm" role="alertdialog" aria-labelledby="confirm-${r.id}"><div id="confirm-${r.id}">${escapeHtml(t.confirm(r.name, this.number(r.pointsCost)))}</div>
              <div class="row"><button type="button" data-action="confirm" data-id="${r.id}" id="confirm-yes" ${s.working ? "disabled" : ""}>${s.working ? t.working : t.yes}</button>
              <button type="button" class="secondary" data-action="cancel" ${s.working ? "disabled" : ""}>${t.cancel}</button></div></div>`
          : canRedeem
            ? `<button type="button" data-action="redeem" data-id="${r.id}" aria-label="${escapeHtml(t.redeemFor(r.name))}" ${r.eligible && r.affordable ? "" : "disabled"}>${t.redeem}</button>`
            : "";
        return `<li class="reward" data-reward="${r.id}"><div><div class="name">${escapeHtml(r.name)}</div><div class="muted">${t.cost(this.number(r.pointsCost))}${note ? ` · ${note}` : ""}</div>
          ${r.description ? `<div class="muted">${escapeHtml(r.description)}</div>` : ""}</div>${action}</li>`;
      });
      return `${html}<ul>${items.join("")}</ul>`;
    }

    async onAction(action, id) {
      const s = this.state;
      if (action === "retry") return this.start();
      if (action === "redeem") {
        s.confirming = id;
        s.focus = "#confirm-yes";
        return this.render();
      }
      if (action === "cancel") {
        s.confirming = null;
        s.focus = `[data-reward="${id}"] button`;
        return this.render();
      }
      if (action === "confirm") return this.redeem(id);
      if (action === "show-code") return this.showCode();
      if (action === "hide-code") {
        clearTimeout(this.codeTimer);
        s.memberCode = null;
        return this.render();
      }
      if (action === "copy-link") return this.copy(this.shadowRoot.getElementById("ref-link").value, "link");
      if (action === "copy-coupon") return this.copy(s.coupon.code, "coupon");
      if (action === "share") return navigator.share({ url: this.shadowRoot.getElementById("ref-link").value }).catch(() => {});
    }

    async copy(text, what) {
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        // Clipboard not permitted (an insecure page): the text stays selectable.
      }
      this.state.copied = what;
      this.state.announce = this.t.copied;
      this.render();
    }

    /** Fetch the current member code and show it, then the next one when it rotates, while shown. */
    async showCode() {
      clearTimeout(this.codeTimer);
      try {
        const code = await this.api("GET", "/v1/me/code");
        if (!this.isConnected || this.state.phase !== "ready") return;
        this.state.memberCode = code;
        this.codeTimer = setTimeout(() => this.showCode(), Math.max(1_000, Date.parse(code.refreshAt) - Date.now()));
      } catch (err) {
        this.state.memberCode = null;
        this.state.announce = err.message;
      }
      this.render();
    }

    async redeem(rewardId) {
      const s = this.state;
      s.working = true;
      this.render();
      try {
        const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
        const result = await this.api(
          "POST",
          `/v1/members/${encodeURIComponent(s.me.id)}/rewards/${encodeURIComponent(rewardId)}/redeem`,
          undefined,
          {
            "idempotency-key": `widget-${key}`,
          },
        );
        s.coupon = result.coupon;
        s.confirming = null;
        s.working = false;
        s.announce = `${this.t.couponIs}: ${result.coupon.code}`;
        await this.load();
        this.state.focus = "#coupon-code";
        this.render();
      } catch (err) {
        s.working = false;
        s.confirming = null;
        s.announce = err.message;
        this.render();
      }
    }
  }

  customElements.define("loyalty-panel", LoyaltyPanel);
})();
