/* Loyalty Edge admin dashboard: reads the admin API with a key kept in sessionStorage (or, for
 * staff signed in through Cloudflare Access, the program id: Access adds their identity) and
 * draws each panel with Chart.js. Each panel loads on its own; a panel whose endpoint is
 * missing or empty says so instead of breaking the page. Charts are exposed on
 * window.__charts for the browser test. */
(() => {
  const KEY_STORAGE = "loyalty-edge.admin-key";
  const OPERATOR_STORAGE = "loyalty-edge.operator-token";
  const charts = {};
  window.__charts = charts;
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) if (child != null) node.append(child instanceof Node ? child : String(child));
    return node;
  };

  // ---- API ---------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  const API_TIMEOUT_MS = 20_000;

  async function api(path) {
    let res;
    try {
      const credential = sessionStorage.getItem(KEY_STORAGE) ?? "";
      const who = credential.startsWith("prg_") ? { "x-program-id": credential } : { authorization: `Bearer ${credential}` };
      res = await fetch(path, {
        headers: { ...who, accept: "application/json" },
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
    } catch (err) {
      throw new ApiError(0, "network", err?.name === "TimeoutError" ? "the API did not answer in time" : "the API is unreachable");
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? res.statusText);
    return body;
  }

  /** Which GET routes this deployment has, from its OpenAPI document: panels only call what exists (no 404 noise). */
  let available = new Set();
  async function discoverRoutes() {
    try {
      const doc = await fetch("/openapi.json").then((r) => r.json());
      available = new Set(
        Object.entries(doc.paths ?? {})
          .filter(([, ops]) => ops.get)
          .map(([p]) => p.replace(/\{[^}]+\}/g, "{}")),
      );
    } catch {
      available = new Set(["/v1/analytics/dashboard"]);
    }
  }
  const has = (path) => available.has(path);

  // ---- Formatting (Intl, in the program currency) -------------------------------------------

  const locale = navigator.language || "en-US";
  let fmt = formatters("USD");
  function formatters(currency) {
    const int = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    const dec = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    const compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
    const pct = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
    const money = new Intl.NumberFormat(locale, { style: "currency", currency });
    const moneyWhole = new Intl.NumberFormat(locale, { style: "currency", currency, maximumFractionDigits: 0 });
    const moneyCompact = new Intl.NumberFormat(locale, { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 });
    // Minor units per major unit from the currency itself (2 for USD/EUR, 0 for JPY, 3 for KWD).
    const scale = 10 ** money.resolvedOptions().maximumFractionDigits;
    const day = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric", timeZone: "UTC" });
    const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
    return {
      currency,
      int: (n) => int.format(n),
      dec: (n) => dec.format(n),
      compact: (n) => (Math.abs(n) >= 10_000 ? compact.format(n) : int.format(n)),
      pct: (p) => pct.format(p),
      money: (minor) => money.format(minor / scale),
      moneyShort: (minor) =>
        (Math.abs(minor / scale) >= 10_000 ? moneyCompact : Math.abs(minor / scale) >= 100 ? moneyWhole : money).format(minor / scale),
      major: (minor) => minor / scale,
      majorShort: (major) => (Math.abs(major) >= 10_000 ? moneyCompact : moneyWhole).format(major),
      day: (iso) => day.format(new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso)),
      dateTime: (iso) => dateTime.format(new Date(iso)),
    };
  }
  const daysAgo = (n) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  const titleCase = (s) =>
    String(s)
      .replace(/[_-]+/g, " ")
      .replace(/^\w/, (c) => c.toUpperCase());

  // ---- Theme and chart helpers ----------------------------------------------------------------

  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const PALETTE = ["#4f46e5", "#0d9488", "#f59e0b", "#e11d48", "#0284c7", "#7c3aed", "#16a34a", "#db2777", "#ea580c", "#64748b"];
  const STAGE_COLORS = { new: "#0284c7", active: "#16a34a", dormant: "#f59e0b", at_risk: "#ea580c", churned: "#e11d48" };
  const alpha = (hex, a) =>
    `${hex}${Math.round(a * 255)
      .toString(16)
      .padStart(2, "0")}`;
  // Green (low risk) to red (high risk).
  const riskColor = (t) => `hsl(${Math.round(150 - 150 * t)} 65% 48%)`;

  function applyChartTheme() {
    const { Chart } = window;
    Chart.defaults.font.family = css("--font") || "system-ui, sans-serif";
    Chart.defaults.font.size = 12;
    Chart.defaults.color = css("--muted");
    Chart.defaults.borderColor = css("--border");
    Chart.defaults.plugins.legend.labels.boxWidth = 10;
    Chart.defaults.plugins.legend.labels.boxHeight = 10;
    Chart.defaults.plugins.legend.labels.usePointStyle = true;
    Chart.defaults.plugins.tooltip.padding = 10;
    Chart.defaults.plugins.tooltip.cornerRadius = 8;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.animation.duration = 400;
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) Chart.defaults.animation = false;
  }

  function drawChart(name, canvasId, config) {
    const canvas = $(canvasId);
    showCanvas(canvas);
    charts[name]?.destroy();
    charts[name] = new window.Chart(canvas, config);
    return charts[name];
  }

  /** Replace a panel's chart with a short message (no data yet, or why it failed). */
  function emptyPanel(name, canvasId, message) {
    charts[name]?.destroy();
    delete charts[name];
    const canvas = $(canvasId);
    canvas.hidden = true;
    let note = canvas.parentElement.querySelector(".empty");
    if (!note) {
      note = el("p", { class: "empty" });
      canvas.parentElement.append(note);
    }
    note.textContent = message;
  }
  function showCanvas(canvas) {
    canvas.hidden = false;
    canvas.parentElement.querySelector(".empty")?.remove();
  }

  const countAxis = (extra = {}) => ({ beginAtZero: true, ticks: { precision: 0, callback: (v) => fmt.compact(v) }, ...extra });
  const noGrid = { grid: { display: false } };

  function setTable(tableId, head, rows) {
    const table = $(tableId);
    table.replaceChildren();
    if (!rows.length) return;
    table.append(
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          head.map(([label, cls]) => el("th", { class: cls, scope: "col" }, label)),
        ),
      ),
      el(
        "tbody",
        {},
        rows.map((cells) =>
          cells.section !== undefined
            ? el("tr", { class: "section" }, el("th", { colspan: head.length, scope: "rowgroup" }, cells.section))
            : el(
                "tr",
                {},
                cells.map(([content, cls]) => el("td", { class: cls }, content)),
              ),
        ),
      ),
    );
  }

  // ---- Panels ----------------------------------------------------------------------------------

  /** Eight headline cards: today's live KPIs (when /v1/kpis/today exists) and the overview. */
  function renderStats(overview, today) {
    const m = overview.members;
    const live = m.total - m.erased;
    const live30 = Boolean(today);
    const k = kpiFigures(today) ?? {};
    const num = (v) => typeof v === "number" && Number.isFinite(v);
    const stageCount = Object.fromEntries(overview.stages.map((s) => [s.stage, s.members]));
    const { liability, points, clv, churnRisk } = overview;
    const cards = [
      { label: "Members", value: fmt.int(live), sub: `${fmt.int(m.newLast30d)} joined in the last 30 days` },
      live30
        ? {
            label: "Active (30 days)",
            value: num(k.membersActive30d) ? fmt.int(k.membersActive30d) : "—",
            sub: num(k.activeRate) ? `${fmt.pct(k.activeRate)} of members bought` : "members who bought",
          }
        : { label: "Purchasers", value: fmt.int(m.purchasers), sub: live ? `${fmt.pct(m.purchasers / live)} of members` : "—" },
      live30 && {
        label: "Repurchase rate",
        value: num(k.repurchaseRate) ? fmt.pct(k.repurchaseRate) : "—",
        sub: num(k.retentionRate30d) ? `${fmt.pct(k.retentionRate30d)} retained over 30 days` : "buyers who bought again",
      },
      live30 && {
        label: "Average order",
        value: num(k.aov30d) ? fmt.money(k.aov30d) : "—",
        sub: num(k.arpu30d) ? `ARPU ${fmt.money(k.arpu30d)} (30 days)` : "last 30 days",
      },
      {
        label: "Points liability",
        value: fmt.money(liability.moneyMinor),
        sub: `${fmt.int(liability.pointsOutstanding)} points outstanding`,
      },
      {
        label: "Points redeemed",
        value: points.earned ? fmt.pct(points.redeemed / points.earned) : "—",
        sub: `${fmt.compact(points.redeemed)} of ${fmt.compact(points.earned)} earned`,
      },
      {
        label: "Average CLV",
        value: clv.mean == null ? "—" : fmt.money(clv.mean),
        sub: `next 12 months · ${fmt.int(churnRisk.scored)} scored`,
      },
      {
        label: "Churn risk",
        value: churnRisk.mean == null ? "—" : fmt.pct(churnRisk.mean),
        sub: `${fmt.int((stageCount.at_risk ?? 0) + (stageCount.dormant ?? 0))} dormant or at risk`,
      },
    ].filter(Boolean);
    $("stats").dataset.count = String(cards.length);
    $("stats").replaceChildren(
      ...cards.map((c) =>
        el(
          "div",
          { class: "card stat" },
          el("div", { class: "label" }, c.label),
          el("div", { class: "value" }, c.value),
          el("div", { class: "sub" }, c.sub),
        ),
      ),
    );
  }

  /** Accept `{figures}`, `{kpis}`, `{data: {...}}` or a flat object of numbers. */
  function kpiFigures(body) {
    if (!body || typeof body !== "object") return null;
    for (const k of ["figures", "kpis", "data"])
      if (body[k] && typeof body[k] === "object" && !Array.isArray(body[k])) return flatten(body[k]);
    return flatten(body);
  }
  function flatten(obj, prefix = "", out = {}) {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}${k[0].toUpperCase()}${k.slice(1)}` : k;
      if (typeof v === "number") out[key] = v;
      else if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, key, out);
    }
    return out;
  }

  /** A list of `{day, figures}` from `/v1/kpis` (any of a few shapes), else the overview's snapshots. */
  function kpiSeries(kpis, overview) {
    const list = Array.isArray(kpis)
      ? kpis
      : (kpis && ["data", "snapshots", "days", "series"].map((k) => kpis[k]).find(Array.isArray)) || overview.kpiSnapshots;
    return list
      .map((s) => ({ day: s.day ?? s.date, figures: kpiFigures(s.figures ? { figures: s.figures } : s) ?? {} }))
      .filter((s) => typeof s.day === "string")
      .sort((a, b) => a.day.localeCompare(b.day));
  }

  /** Snapshots end yesterday; today's live figures make the last point. */
  function withToday(series, today) {
    const figures = kpiFigures(today);
    if (series.length === 0 || !figures || typeof today.day !== "string" || series.some((s) => s.day >= today.day)) return series;
    return [...series, { day: today.day, figures }];
  }

  /** The KPI views (tabs): which snapshot figures each charts, and on which kind of axis. */
  const KPI_VIEWS = {
    members: [
      { key: "membersTotal", label: "Members", axis: "count" },
      { key: "membersActive30d", label: "Active (30 days)", axis: "count" },
      { key: "membersNew30d", label: "New (30 days)", axis: "count" },
      { key: "orders30d", label: "Orders (30 days)", axis: "count" },
    ],
    rates: [
      { key: "repurchaseRate", label: "Repurchase rate", axis: "rate" },
      { key: "retentionRate30d", label: "Retention (30 days)", axis: "rate" },
      { key: "activeRate", label: "Active rate", axis: "rate" },
      { key: "redemptionRate", label: "Redemption rate", axis: "rate" },
      { key: "churnRate30d", label: "Churn rate (30 days)", axis: "rate" },
    ],
    money: [
      { key: "revenue30d", label: "Revenue (30 days)", axis: "money" },
      { key: "pointsLiabilityMinor", label: "Points liability", axis: "money" },
      { key: "aov30d", label: "Average order value", axis: "moneySmall" },
      { key: "arpu30d", label: "ARPU (30 days)", axis: "moneySmall" },
    ],
  };
  const AXES = {
    count: { ticks: { precision: 0, callback: (v) => fmt.compact(v) }, format: (v) => fmt.int(v) },
    rate: { ticks: { callback: (v) => fmt.pct(v) }, format: (v) => fmt.pct(v) },
    money: { ticks: { callback: (v) => fmt.moneyShort(v) }, format: (v) => fmt.money(v) },
    moneySmall: { ticks: { callback: (v) => fmt.moneyShort(v) }, format: (v) => fmt.money(v) },
  };
  let kpiView = "members";
  let kpiData = [];

  function renderKpis(series) {
    kpiData = series;
    const tabs = $("kpi-tabs");
    if (series.length === 0) {
      tabs.hidden = true;
      return emptyPanel("kpis", "chart-kpis", "No KPI snapshots yet: one is taken each night.");
    }
    const keys = new Set(series.flatMap((s) => Object.keys(s.figures)));
    const views = Object.fromEntries(
      Object.entries(KPI_VIEWS)
        .map(([name, list]) => [name, list.filter((d) => keys.has(d.key))])
        .filter(([, list]) => list.length),
    );
    // An unfamiliar snapshot shape still charts: its first numeric figures, as counts.
    if (Object.keys(views).length === 0)
      views.members = [...keys]
        .slice(0, 4)
        .map((key) => ({ key, label: titleCase(key.replace(/([A-Z])/g, " $1").toLowerCase()), axis: "count" }));
    if (!views[kpiView]) kpiView = Object.keys(views)[0];
    tabs.hidden = Object.keys(views).length < 2;
    for (const button of tabs.querySelectorAll("button")) {
      button.hidden = !views[button.dataset.view];
      button.setAttribute("aria-pressed", String(button.dataset.view === kpiView));
    }
    const defs = views[kpiView];
    const axes = [...new Set(defs.map((d) => d.axis))];
    const datasets = defs.map((d, i) => {
      const color = PALETTE[i];
      return {
        label: d.label,
        data: series.map((s) => s.figures[d.key] ?? null),
        yAxisID: d.axis,
        borderColor: color,
        backgroundColor: color,
        fill: i === 0 && axes.length === 1 ? { target: "origin", above: alpha(color, 0.08) } : false,
        borderWidth: 2,
        pointRadius: series.length > 31 ? 0 : 2.5,
        pointHoverRadius: 4,
        tension: 0.3,
        spanGaps: true,
      };
    });
    const scales = { x: { ...noGrid, ticks: { maxRotation: 0, autoSkipPadding: 18 } } };
    axes.forEach((axis, i) => {
      scales[axis] = {
        position: i === 0 ? "left" : "right",
        beginAtZero: true,
        grid: { drawOnChartArea: i === 0 },
        ticks: AXES[axis].ticks,
      };
    });
    drawChart("kpis", "chart-kpis", {
      type: "line",
      data: { labels: series.map((s) => fmt.day(s.day)), datasets },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y == null ? "—" : AXES[c.dataset.yAxisID].format(c.parsed.y)}` },
          },
        },
        scales,
      },
    });
  }

  function renderTiers(overview) {
    const tiers = overview.tiers.filter((t) => t.members > 0 || t.tierId);
    if (!tiers.some((t) => t.members > 0)) return emptyPanel("tiers", "chart-tiers", "No members yet.");
    const colors = tiers.map((t, i) => (t.tierId ? PALETTE[i % PALETTE.length] : "#94a3b8"));
    const total = tiers.reduce((n, t) => n + t.members, 0);
    drawChart("tiers", "chart-tiers", {
      type: "doughnut",
      data: {
        labels: tiers.map((t) => t.name),
        datasets: [
          { data: tiers.map((t) => t.members), backgroundColor: colors, borderColor: css("--surface"), borderWidth: 2, hoverOffset: 6 },
        ],
      },
      options: {
        cutout: "62%",
        plugins: {
          legend: {
            position: "right",
            labels: {
              generateLabels: (chart) =>
                window.Chart.overrides.doughnut.plugins.legend.labels
                  .generateLabels(chart)
                  .map((l) => ({ ...l, text: `${l.text}  ${fmt.pct(tiers[l.index].members / total)}` })),
            },
          },
          tooltip: { callbacks: { label: (c) => `${c.label}: ${fmt.int(c.parsed)} members (${fmt.pct(c.parsed / total)})` } },
        },
      },
    });
  }

  /** Per-tier KPIs of the latest daily snapshot: spend per member and AOV drawn, every figure in the table. */
  function renderTierKpis(series) {
    const latest = series?.data?.at(-1);
    if (!latest || latest.tiers.length === 0) {
      setTable("table-tier-kpis", [], []);
      return emptyPanel("tierKpis", "chart-tier-kpis", "No per-tier snapshot yet (taken nightly with the KPIs).");
    }
    $("tier-kpis-note").textContent = `Per tier on ${fmt.day(latest.day)} (${latest.timeZone}); money and points over the 30 days before`;
    const tiers = latest.tiers;
    const bar = (label, color, values) => ({
      label,
      data: values.map((v) => (v == null ? null : fmt.major(v))),
      backgroundColor: color,
      borderRadius: 4,
      maxBarThickness: 30,
    });
    drawChart("tierKpis", "chart-tier-kpis", {
      type: "bar",
      data: {
        labels: tiers.map((t) => t.tierName),
        datasets: [
          bar(
            "Spend per member (30 days)",
            alpha(PALETTE[0], 0.85),
            tiers.map((t) => t.figures.spendPerMember30d),
          ),
          bar(
            "Average order value (30 days)",
            alpha(PALETTE[1], 0.85),
            tiers.map((t) => t.figures.aov30d),
          ),
        ],
      },
      options: {
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt.majorShort(c.parsed.y)}` } } },
        scales: { x: noGrid, y: { beginAtZero: true, ticks: { callback: (v) => fmt.majorShort(v) } } },
      },
    });
    const rate = (v) => (v == null ? "—" : fmt.pct(v));
    setTable(
      "table-tier-kpis",
      [
        ["Tier"],
        ["Members", "num"],
        ["Retention", "num"],
        ["Repurchase", "num"],
        ["AOV", "num opt"],
        ["Points earned / redeemed", "num opt"],
        ["Up in / out", "num"],
        ["Down in / out", "num"],
      ],
      tiers.map((t) => {
        const f = t.figures;
        return [
          [t.tierName],
          [fmt.int(f.members), "num"],
          [rate(f.retentionRate30d), "num"],
          [rate(f.repurchaseRate), "num"],
          [f.aov30d == null ? "—" : fmt.money(f.aov30d), "num opt"],
          [`${fmt.int(f.points.earned30d)} / ${fmt.int(f.points.redeemed30d)}`, "num opt"],
          [`${fmt.int(f.upgrades.in)} / ${fmt.int(f.upgrades.out)}`, "num"],
          [`${fmt.int(f.downgrades.in)} / ${fmt.int(f.downgrades.out)}`, "num"],
        ];
      }),
    );
  }

  /** LTV (mean 12-month CLV of the cohort) against CAC per acquisition channel, months from..to. */
  function renderLtvCac(cac) {
    const channels = (cac?.channels ?? []).filter((c) => c.channel !== "unattributed" && (c.newMembers > 0 || c.spendMinor > 0));
    if (channels.length === 0) {
      setTable("table-ltv-cac", [], []);
      return emptyPanel("ltvCac", "chart-ltv-cac", "No members acquired through a channel in these months.");
    }
    $("ltv-cac-note").textContent = `Per acquisition channel, members who joined ${cac.from} to ${cac.to}`;
    const bar = (label, color, values) => ({
      label,
      data: values.map((v) => (v == null ? null : fmt.major(v))),
      backgroundColor: color,
      borderRadius: 4,
      maxBarThickness: 30,
    });
    drawChart("ltvCac", "chart-ltv-cac", {
      type: "bar",
      data: {
        labels: channels.map((c) => titleCase(c.channel)),
        datasets: [
          bar(
            "LTV (12-month CLV)",
            alpha(PALETTE[1], 0.85),
            channels.map((c) => c.ltvMinor),
          ),
          bar(
            "CAC",
            alpha(PALETTE[3], 0.85),
            channels.map((c) => c.cacMinor),
          ),
        ],
      },
      options: {
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt.majorShort(c.parsed.y)}` } } },
        scales: { x: noGrid, y: { beginAtZero: true, ticks: { callback: (v) => fmt.majorShort(v) } } },
      },
    });
    setTable(
      "table-ltv-cac",
      [["Channel"], ["New members", "num"], ["Spend", "num opt"], ["CAC", "num"], ["LTV", "num"], ["LTV:CAC", "num"]],
      channels.map((c) => [
        [titleCase(c.channel)],
        [fmt.int(c.newMembers), "num"],
        [fmt.money(c.spendMinor), "num opt"],
        [c.cacMinor == null ? "—" : fmt.money(c.cacMinor), "num"],
        [c.ltvMinor == null ? "—" : fmt.money(c.ltvMinor), "num"],
        [c.ltvToCac == null ? "—" : `${fmt.dec(c.ltvToCac)} : 1`, "num"],
      ]),
    );
  }

  function renderStages(overview) {
    const stages = overview.stages;
    if (!stages.some((s) => s.members > 0)) return emptyPanel("stages", "chart-stages", "No members yet.");
    const total = stages.reduce((n, s) => n + s.members, 0);
    drawChart("stages", "chart-stages", {
      type: "bar",
      data: {
        labels: stages.map((s) => titleCase(s.stage)),
        datasets: [
          {
            label: "Members",
            data: stages.map((s) => s.members),
            backgroundColor: stages.map((s) => STAGE_COLORS[s.stage] ?? PALETTE[9]),
            borderRadius: 5,
            maxBarThickness: 30,
          },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (c) => `${fmt.int(c.parsed.x)} members (${fmt.pct(c.parsed.x / total)})` } },
        },
        scales: { x: countAxis(), y: { ...noGrid, ticks: { autoSkip: false } } },
      },
    });
  }

  function renderChurn(overview) {
    const { buckets, scored } = overview.churnRisk;
    if (scored === 0) return emptyPanel("churn", "chart-churn", "No churn scores yet: the model is fitted and members scored nightly.");
    $("churn-note").textContent = `${fmt.int(scored)} members scored by BG/NBD; mean ${fmt.pct(overview.churnRisk.mean ?? 0)}`;
    drawChart("churn", "chart-churn", {
      type: "bar",
      data: {
        labels: buckets.map((b) => `${Math.round(b.from * 100)}–${Math.round(b.to * 100)}%`),
        datasets: [
          {
            label: "Members",
            data: buckets.map((b) => b.members),
            backgroundColor: buckets.map((b) => riskColor((b.from + b.to) / 2)),
            borderRadius: 4,
            barPercentage: 0.95,
            categoryPercentage: 0.95,
          },
        ],
      },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: { title: (items) => `Churn probability ${items[0].label}`, label: (c) => `${fmt.int(c.parsed.y)} members` },
          },
        },
        scales: { x: { ...noGrid, ticks: { maxRotation: 0, autoSkipPadding: 6 } }, y: countAxis() },
      },
    });
  }

  function renderSegments(overview) {
    const byMembers = (a, b) => b.members - a.members;
    const custom = overview.segments
      .map((s) => ({ label: s.name, members: s.members, custom: true }))
      .sort(byMembers)
      .slice(0, 8);
    const value = overview.valueSegments.map((s) => ({ label: titleCase(s.segment), members: s.members, custom: false })).sort(byMembers);
    const rows = [...custom, ...value];
    if (!rows.some((r) => r.members > 0))
      return emptyPanel(
        "segments",
        "chart-segments",
        "No segments yet: value segments are computed nightly; custom segments are created in the API.",
      );
    // Two datasets (custom, value) over one list of bars, so the legend tells them apart.
    const series = (custom, label, color) => ({
      label,
      data: rows.map((r) => (r.custom === custom ? r.members : null)),
      backgroundColor: color,
      borderRadius: 4,
      maxBarThickness: 20,
      skipNull: true,
    });
    const datasets = [
      ...(custom.length ? [series(true, "Custom segments", PALETTE[0])] : []),
      ...(value.length ? [series(false, "Value segments (RFM)", PALETTE[1])] : []),
    ];
    drawChart("segments", "chart-segments", {
      type: "bar",
      data: { labels: rows.map((r) => r.label), datasets },
      options: {
        indexAxis: "y",
        plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { label: (c) => `${fmt.int(c.parsed.x)} members` } } },
        scales: { x: countAxis({ stacked: true }), y: { ...noGrid, stacked: true, ticks: { autoSkip: false } } },
      },
    });
  }

  function renderClv(overview) {
    const top = overview.clv.top;
    setTable(
      "table-clv",
      [["Member"], ["Tier", "opt"], ["CLV 12 mo", "num"], ["Churn", "num"], ["Orders", "num opt"]],
      top.map((m) => [
        [el("div", { class: "who" }, m.name ?? m.externalId, m.name ? el("small", {}, m.externalId) : null)],
        [m.tier ? el("span", { class: "pill" }, m.tier) : "—", "opt"],
        [fmt.money(m.clv12m ?? 0), "num"],
        [
          m.churnProbability == null
            ? "—"
            : el("span", { class: `pill ${m.churnProbability >= 0.5 ? "bad" : "good"}` }, fmt.pct(m.churnProbability)),
          "num",
        ],
        [fmt.int(m.ordersCount), "num opt"],
      ]),
    );
    if (top.length === 0) return emptyPanel("clv", "chart-clv", "No CLV yet: it is computed with the nightly model fit.");
    drawChart("clv", "chart-clv", {
      type: "bar",
      data: {
        labels: top.map((m) => m.name ?? m.externalId),
        datasets: [
          {
            label: "CLV (12 months)",
            data: top.map((m) => fmt.major(m.clv12m ?? 0)),
            backgroundColor: alpha(PALETTE[0], 0.85),
            borderRadius: 4,
            maxBarThickness: 20,
          },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => fmt.majorShort(c.parsed.x) } } },
        scales: { x: { beginAtZero: true, ticks: { callback: (v) => fmt.majorShort(v) } }, y: { ...noGrid, ticks: { autoSkip: false } } },
      },
    });
  }

  // ---- Campaigns and experiments (their own endpoints, when this deployment has them) ----------

  const signedPp = (x) => `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1, signDisplay: "exceptZero" }).format(x * 100)} pp`;
  const pValue = (p) => (p == null ? "—" : p < 0.001 ? "<0.001" : fmt.dec(p));

  async function renderCampaigns(overview) {
    const list = overview.campaigns.slice(0, 8);
    if (list.length === 0) {
      setTable("table-campaigns", [], []);
      return emptyPanel("campaigns", "chart-campaigns", "No campaigns yet.");
    }
    const rois = await Promise.all(
      list.map((c) => (has("/v1/campaigns/{}/roi") ? api(`/v1/campaigns/${encodeURIComponent(c.id)}/roi`).catch(() => null) : null)),
    );
    const rows = list.map((c, i) => {
      const roi = rois[i];
      const inc = roi?.incremental ?? null;
      return {
        ...c,
        cost: roi?.costMinor ?? c.spentMinor,
        attributed: roi?.attribution?.revenue ?? null,
        incremental: inc?.incrementalRevenue ?? null,
        incrementalCi: inc?.incrementalRevenueCi ?? null,
        roi: inc?.roi ?? roi?.attribution?.roi ?? null,
        roiKind: inc?.roi != null ? "incremental" : "attributed",
      };
    });
    const bar = (label, color, values) => ({
      label,
      data: values.map((v) => (v == null ? null : fmt.major(v))),
      backgroundColor: color,
      borderRadius: 4,
      maxBarThickness: 26,
    });
    const datasets = [
      bar(
        "Cost",
        alpha(PALETTE[3], 0.85),
        rows.map((r) => r.cost),
      ),
    ];
    if (rows.some((r) => r.attributed != null))
      datasets.push(
        bar(
          "Attributed revenue",
          alpha(PALETTE[4], 0.55),
          rows.map((r) => r.attributed),
        ),
      );
    if (rows.some((r) => r.incremental != null))
      datasets.push(
        bar(
          "Incremental revenue",
          alpha(PALETTE[1], 0.9),
          rows.map((r) => r.incremental),
        ),
      );
    if (datasets.length === 1)
      datasets.push(
        bar(
          "Budget",
          alpha(PALETTE[9], 0.35),
          rows.map((r) => r.budgetMinor),
        ),
      );
    drawChart("campaigns", "chart-campaigns", {
      type: "bar",
      data: { labels: rows.map((r) => r.name), datasets },
      options: {
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt.majorShort(c.parsed.y)}` } },
        },
        scales: {
          x: {
            ...noGrid,
            ticks: {
              maxRotation: 0,
              autoSkip: false,
              callback(v) {
                const l = this.getLabelForValue(v);
                return l.length > 18 ? `${l.slice(0, 17)}…` : l;
              },
            },
          },
          y: { beginAtZero: true, ticks: { callback: (v) => fmt.majorShort(v) } },
        },
      },
    });
    setTable(
      "table-campaigns",
      [["Campaign"], ["Cost", "num"], ["Attributed revenue", "num opt"], ["Incremental", "num"], ["ROI", "num"]],
      rows.map((r) => [
        [el("div", { class: "who" }, r.name, el("small", {}, `${titleCase(r.trigger)} · ${r.status}`))],
        [
          el(
            "div",
            {},
            fmt.money(r.cost ?? 0),
            r.budgetMinor == null ? null : el("small", { class: "muted ci" }, `of ${fmt.moneyShort(r.budgetMinor)}`),
          ),
          "num",
        ],
        [r.attributed == null ? "—" : fmt.money(r.attributed), "num opt"],
        [
          r.incremental == null
            ? "—"
            : el(
                "div",
                {},
                fmt.money(r.incremental),
                Array.isArray(r.incrementalCi)
                  ? el("small", { class: "muted ci" }, `${fmt.moneyShort(r.incrementalCi[0])} … ${fmt.moneyShort(r.incrementalCi[1])}`)
                  : null,
              ),
          "num",
        ],
        [
          r.roi == null ? "—" : el("span", { class: r.roi >= 0 ? "pos" : "neg", title: `ROI on ${r.roiKind} revenue` }, fmt.pct(r.roi)),
          "num",
        ],
      ]),
    );
  }

  /**
   * Journeys: the newest journey's funnel (runs reaching each step, and opens of its messages)
   * drawn from GET /v1/campaigns/{id}/engagement; a table of up to four journeys with their runs and rates.
   */
  async function renderJourneys() {
    if (!has("/v1/campaigns/{}/engagement")) {
      setTable("table-journeys", [], []);
      return emptyPanel("journeys", "chart-journeys", "Journeys are not available on this deployment.");
    }
    const { data } = await api("/v1/campaigns");
    const list = data.filter((c) => c.journey).slice(0, 4);
    if (list.length === 0) {
      setTable("table-journeys", [], []);
      return emptyPanel("journeys", "chart-journeys", "No journeys yet: start one from a ready-made template (GET /v1/journey-templates).");
    }
    const reports = await Promise.all(list.map((c) => api(`/v1/campaigns/${encodeURIComponent(c.id)}/engagement`)));
    const [first] = reports;
    const canvas = $("chart-journeys");
    canvas.dataset.campaignId = first.campaignId;
    $("journeys-note").textContent = `Members reaching each step of “${list[0].name}” (${list[0].trigger.type.replaceAll("_", " ")})`;
    const steps = first.journey.steps;
    drawChart("journeys", "chart-journeys", {
      type: "bar",
      data: {
        labels: steps.map((s) => `${s.stepId} (${s.type})`),
        datasets: [
          {
            label: "Reached",
            data: steps.map((s) => s.reached),
            backgroundColor: alpha(PALETTE[0], 0.85),
            borderRadius: 4,
            maxBarThickness: 22,
          },
          {
            label: "Opened",
            data: steps.map((s) => (s.messages ? s.messages.opened : null)),
            backgroundColor: alpha(PALETTE[1], 0.85),
            borderRadius: 4,
            maxBarThickness: 22,
          },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { position: "bottom" } },
        scales: { x: countAxis(), y: { ...noGrid, ticks: { autoSkip: false } } },
      },
    });
    const rate = (v) => (v == null ? "—" : fmt.pct(v));
    setTable(
      "table-journeys",
      [
        ["Journey"],
        ["Entered", "num"],
        ["Active", "num"],
        ["Completed", "num"],
        ["Exited", "num"],
        ["Open rate", "num"],
        ["Click rate", "num opt"],
      ],
      list.map((c, i) => {
        const r = reports[i];
        return [
          [el("div", { class: "who" }, c.name, el("small", {}, `${titleCase(c.trigger.type)} · ${c.status}`))],
          [fmt.int(r.journey.runs.entered), "num"],
          [fmt.int(r.journey.runs.active), "num"],
          [fmt.int(r.journey.runs.completed), "num"],
          [fmt.int(r.journey.runs.exited), "num"],
          [rate(r.messages.openRate), "num"],
          [rate(r.messages.clickRate), "num opt"],
        ];
      }),
    );
  }

  async function renderExperiments(overview) {
    const list = overview.experiments.slice(0, 4);
    if (list.length === 0 || !has("/v1/experiments/{}/results")) {
      setTable("table-experiments", [], []);
      return emptyPanel(
        "experiments",
        "chart-experiments",
        list.length === 0 ? "No experiments yet." : "Experiment results are not available on this deployment.",
      );
    }
    const results = (
      await Promise.all(list.map((x) => api(`/v1/experiments/${encodeURIComponent(x.id)}/results`).catch(() => null)))
    ).filter(Boolean);
    const campaignName = Object.fromEntries(overview.campaigns.map((c) => [c.id, c.name]));
    const nameOf = (r) => campaignName[r.campaignId] ?? r.experimentId;
    // One bar per treatment group: its lift in conversion rate over the control, with the 95% interval.
    const lifts = results.flatMap((r) =>
      (r.groups ?? [])
        .filter((g) => !g.isControl && g.vsControl?.rate?.absoluteLift != null)
        .map((g) => ({
          label: results.length > 1 ? `${nameOf(r)} · ${g.key}` : g.key,
          lift: g.vsControl.rate.absoluteLift,
          ci: g.vsControl.rate.ci,
          significant: g.vsControl.rate.significant,
        })),
    );
    const tableRows = results.flatMap((r) => [
      {
        section: `${nameOf(r)} · ${r.status}${r.winner ? ` · winner ${r.winner}` : ""}${
          r.recommendation?.reason
            ? ` · ${titleCase(r.recommendation.reason)
                .toLowerCase()
                .replace(/^./, (c) => c.toUpperCase())}`
            : ""
        }`,
      },
      ...(r.groups ?? []).map((g) => {
        const v = g.vsControl?.rate;
        return [
          [
            el(
              "div",
              { class: "who" },
              g.key,
              g.isControl ? el("small", {}, "control") : r.winner === g.key ? el("small", {}, "winner") : null,
            ),
          ],
          [fmt.int(g.exposures), "num opt"],
          [fmt.int(g.conversions), "num opt"],
          [g.rate == null ? "—" : fmt.pct(g.rate), "num"],
          [v?.absoluteLift == null ? "—" : el("span", { class: v.absoluteLift >= 0 ? "pos" : "neg" }, signedPp(v.absoluteLift)), "num"],
          [Array.isArray(v?.ci) ? `${signedPp(v.ci[0])} … ${signedPp(v.ci[1])}` : "—", "num"],
          [
            v
              ? el(
                  "span",
                  {
                    class: `pill ${v.significant ? (v.absoluteLift >= 0 ? "good" : "bad") : ""}`,
                    title: v.significant ? "significant" : "not significant",
                  },
                  pValue(v.pValue),
                )
              : "—",
            "num",
          ],
        ];
      }),
    ]);
    setTable(
      "table-experiments",
      [["Group"], ["Exposed", "num opt"], ["Converted", "num opt"], ["Rate", "num"], ["Lift", "num"], ["95% CI", "num"], ["p", "num"]],
      tableRows,
    );
    if (lifts.length === 0) return emptyPanel("experiments", "chart-experiments", "No results yet: they appear once members are exposed.");
    const strong = css("--text");
    const tone = (l) => (Array.isArray(l.ci) && l.ci[0] > 0 ? PALETTE[6] : Array.isArray(l.ci) && l.ci[1] < 0 ? PALETTE[3] : PALETTE[9]);
    drawChart("experiments", "chart-experiments", {
      type: "bar",
      data: {
        labels: lifts.map((l) => l.label),
        datasets: [
          {
            label: "95% confidence interval",
            data: lifts.map((l) => (Array.isArray(l.ci) ? [l.ci[0], l.ci[1]] : null)),
            backgroundColor: lifts.map((l) => alpha(tone(l), 0.3)),
            borderColor: lifts.map(tone),
            borderWidth: 1.5,
            borderRadius: 4,
            borderSkipped: false,
            barPercentage: 0.45,
          },
          {
            type: "line",
            label: "Lift in conversion rate",
            data: lifts.map((l) => l.lift),
            showLine: false,
            pointStyle: "rectRot",
            pointRadius: 7,
            pointHoverRadius: 8,
            backgroundColor: strong,
            borderColor: strong,
          },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: (c) =>
                c.dataset.type === "line"
                  ? `Lift ${signedPp(c.parsed.x)}`
                  : Array.isArray(lifts[c.dataIndex].ci)
                    ? `95% CI ${signedPp(lifts[c.dataIndex].ci[0])} to ${signedPp(lifts[c.dataIndex].ci[1])}`
                    : "no interval yet",
            },
          },
        },
        scales: {
          x: {
            ticks: { callback: (v) => signedPp(v) },
            grid: { color: (c) => (c.tick?.value === 0 ? strong : css("--border")), lineWidth: (c) => (c.tick?.value === 0 ? 1.5 : 1) },
          },
          y: { ...noGrid, ticks: { autoSkip: false } },
        },
      },
    });
  }

  // ---- System (operator) -----------------------------------------------------------------------

  /** GET /v1/health/deep with the operator token: a summary line and every job's last run. */
  async function loadSystem() {
    const token = sessionStorage.getItem(OPERATOR_STORAGE);
    $("system-form").hidden = Boolean(token);
    if (!token) {
      $("system-summary").textContent = "";
      $("table-system").replaceChildren();
      return;
    }
    let res;
    try {
      res = await fetch("/v1/health/deep", {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
    } catch {
      $("system-summary").textContent = "The API did not answer.";
      return;
    }
    const body = await res.json().catch(() => null);
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(OPERATOR_STORAGE);
      $("system-form").hidden = false;
      $("system-summary").textContent = "That is not this deployment's operator token.";
      return;
    }
    if (!res.ok) {
      $("system-summary").textContent = `Unhealthy: ${body?.error?.message ?? res.statusText}`;
      return;
    }
    const h = body;
    const b = h.backlog;
    $("system-summary").textContent = [
      h.ok ? "Healthy" : `Problems: ${h.problems.join("; ")}`,
      `database ${fmt.int(h.database.latencyMs)} ms`,
      `migrations ${h.migrations.applied}/${h.migrations.expected}`,
      `outbox ${fmt.int(b.outbox.undispatched)} waiting`,
      `webhook deliveries ${fmt.int(b.webhookDeliveries.due)} due of ${fmt.int(b.webhookDeliveries.pending)} pending`,
      `queue ${fmt.int(b.queue.webhookDeliveriesClaimed)} handed over`,
    ].join(" · ");
    setTable(
      "table-system",
      [["Job"], ["Trigger"], ["Last run"], ["Outcome"], ["Duration", "num"], ["Rows", "num"]],
      h.jobs.map((j) => [
        [j.job],
        [j.trigger],
        [j.lastRun ? fmt.dateTime(j.lastRun.startedAt) : "never"],
        [j.lastRun ? `${j.lastRun.outcome}${j.stale ? " (stale)" : ""}` : j.stale ? "stale" : "—"],
        [j.lastRun ? `${fmt.int(j.lastRun.durationMs)} ms` : "", "num"],
        [j.lastRun ? fmt.int(j.lastRun.rows) : "", "num"],
      ]),
    );
  }

  /** GET /v1/jobs: the newest run of each nightly job (runs come newest first). */
  async function loadJobs() {
    if (!has("/v1/jobs")) return;
    try {
      const { data } = await api("/v1/jobs?limit=100");
      const last = new Map();
      for (const run of data) if (!last.has(run.job)) last.set(run.job, run);
      $("jobs-summary").textContent = last.size ? "" : "No nightly run yet.";
      setTable(
        "table-jobs",
        [["Job"], ["Night"], ["Status"], ["Shards", "num"], ["Rows", "num"], ["Started"], ["Finished"], ["Error"]],
        [...last.values()].map((r) => [
          [r.job],
          [r.runKey],
          [r.status],
          [`${fmt.int(r.shardsDone)} / ${fmt.int(r.shardsTotal)}`, "num"],
          [fmt.int(r.rows), "num"],
          [r.startedAt ? fmt.dateTime(r.startedAt) : "—"],
          [r.finishedAt ? fmt.dateTime(r.finishedAt) : "—"],
          [r.error ?? ""],
        ]),
      );
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) throw err;
      $("jobs-summary").textContent = `Could not load: ${err?.message ?? err}`;
    }
  }

  // ---- Page flow -------------------------------------------------------------------------------

  /** Run one panel; a failure shows in that panel only. */
  async function panel(name, canvasId, run) {
    try {
      await run();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) throw err;
      emptyPanel(name, canvasId, `Could not load: ${err?.message ?? err}`);
    }
  }

  async function load() {
    document.body.dataset.state = "loading";
    const overview = await api("/v1/analytics/dashboard?days=90");
    fmt = formatters(overview.program.currency);
    $("program-name").textContent = overview.program.name;
    $("program-title").textContent = overview.program.name;
    $("generated-at").textContent = `As of ${fmt.dateTime(overview.generatedAt)} · amounts in ${overview.program.currency}`;
    document.title = `${overview.program.name} · Loyalty Edge`;
    showDashboard();

    const month = (back) => {
      const d = new Date();
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1)).toISOString().slice(0, 7);
    };
    const [kpis, today, tierKpis, cac] = await Promise.all([
      has("/v1/kpis") ? api(`/v1/kpis?from=${daysAgo(90)}`).catch(() => null) : null,
      has("/v1/kpis/today") ? api("/v1/kpis/today").catch(() => null) : null,
      has("/v1/kpis/tiers") ? api(`/v1/kpis/tiers?from=${daysAgo(90)}`).catch(() => null) : null,
      has("/v1/analytics/cac") ? api(`/v1/analytics/cac?from=${month(11)}&to=${month(0)}`).catch(() => null) : null,
    ]);
    renderStats(overview, today);
    await Promise.all([
      panel("kpis", "chart-kpis", () => renderKpis(withToday(kpiSeries(kpis, overview), today))),
      panel("tiers", "chart-tiers", () => renderTiers(overview)),
      panel("tierKpis", "chart-tier-kpis", () => renderTierKpis(tierKpis)),
      panel("ltvCac", "chart-ltv-cac", () => renderLtvCac(cac)),
      panel("stages", "chart-stages", () => renderStages(overview)),
      panel("churn", "chart-churn", () => renderChurn(overview)),
      panel("segments", "chart-segments", () => renderSegments(overview)),
      panel("clv", "chart-clv", () => renderClv(overview)),
      panel("campaigns", "chart-campaigns", () => renderCampaigns(overview)),
      panel("experiments", "chart-experiments", () => renderExperiments(overview)),
      panel("journeys", "chart-journeys", () => renderJourneys()),
      loadJobs(),
      loadSystem(),
    ]);
    document.body.dataset.state = "ready";
  }

  function showDashboard() {
    $("sign-in").hidden = true;
    $("dashboard").hidden = false;
    $("sign-out").hidden = false;
    $("refresh").hidden = false;
  }

  function showSignIn(message = "") {
    for (const name of Object.keys(charts)) {
      charts[name].destroy();
      delete charts[name];
    }
    $("dashboard").hidden = true;
    $("sign-out").hidden = true;
    $("refresh").hidden = true;
    $("program-name").textContent = "";
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = message;
    $("admin-key").focus();
    document.body.dataset.state = "sign-in";
  }

  async function start() {
    if (!sessionStorage.getItem(KEY_STORAGE)) return showSignIn();
    try {
      await load();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        sessionStorage.removeItem(KEY_STORAGE);
        return showSignIn(
          err.status === 403 ? "That key is not an admin key. Use the program's admin key." : `That key was not accepted: ${err.message}`,
        );
      }
      showSignIn(`Could not load the dashboard: ${err?.message ?? err}`);
    }
  }

  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("admin-key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    $("admin-key").value = "";
    const button = event.target.querySelector("button");
    button.disabled = true;
    await start();
    button.disabled = false;
  });
  $("system-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("operator-token").value.trim();
    if (!token) return;
    sessionStorage.setItem(OPERATOR_STORAGE, token);
    $("operator-token").value = "";
    await loadSystem();
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    sessionStorage.removeItem(OPERATOR_STORAGE);
    showSignIn();
  });
  $("refresh").addEventListener("click", () => void start());
  $("kpi-tabs").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-view]");
    if (!button || button.dataset.view === kpiView) return;
    kpiView = button.dataset.view;
    renderKpis(kpiData);
  });

  applyChartTheme();
  discoverRoutes().then(start);
})();
