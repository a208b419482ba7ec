// Strata's admin UI: plain JavaScript, no dependencies. It talks to the endpoints beside the page
// (admin/init, admin/auth, admin/api — Centrifugo's — and admin/store, admin/history — Strata's).
"use strict";
(function () {
  const base = location.pathname.replace(/[^/]*$/, "");
  const $ = (id) => document.getElementById(id);
  let insecure = false;
  let statusTimer = null;

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const token = localStorage.getItem("token");
    if (token && !insecure) h["Authorization"] = "token " + token;
    return h;
  }

  async function request(path, options) {
    const resp = await fetch(base + path, Object.assign({}, options, { headers: headers(options && options.headers) }));
    if (resp.status === 401) { logout(); throw new Error("Unauthorized"); }
    if (resp.status === 403) throw new Error("Permission denied");
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    return resp.json();
  }

  // One server API command through admin/api (Centrifugo's single-endpoint API).
  async function api(method, params) {
    return request("admin/api", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ method: method, params: params || {} }) });
  }

  function show(which) {
    $("login").hidden = which !== "login";
    $("app").hidden = which !== "app";
  }

  function logout() {
    localStorage.removeItem("token");
    if (statusTimer) clearInterval(statusTimer);
    statusTimer = null;
    show("login");
  }

  async function start() {
    let init = { authenticated: false, insecure: false };
    try { init = await (await fetch(base + "admin/init", { headers: headers() })).json(); } catch (e) { /* offline */ }
    insecure = init.insecure;
    if (init.insecure || init.authenticated || localStorage.getItem("token")) { show("app"); route(); } else { show("login"); }
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    const form = new FormData();
    form.append("password", $("password").value);
    const resp = await fetch(base + "admin/auth", { method: "POST", body: form, headers: { "Accept": "application/json" } });
    if (!resp.ok) {
      $("login-error").textContent = resp.status === 429 ? "Too many failed attempts: wait a minute." : "Wrong password.";
      return;
    }
    localStorage.setItem("token", (await resp.json()).token);
    $("password").value = "";
    show("app");
    route();
  });
  $("logout").addEventListener("click", logout);

  // ---- routing (#/status, #/actions, #/history) ----
  function route() {
    const page = (location.hash.replace(/^#\//, "") || "status").split("?")[0];
    for (const p of ["status", "actions", "history"]) $("page-" + p).hidden = p !== page;
    document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === page));
    if (statusTimer) clearInterval(statusTimer);
    statusTimer = null;
    if (page === "status") { refreshStatus(); statusTimer = setInterval(refreshStatus, 5000); }
  }
  window.addEventListener("hashchange", () => { if (!$("app").hidden) route(); });

  // ---- status ----
  function duration(s) {
    if (!s) return "0s";
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return (d ? d + "d " : "") + (h ? h + "h " : "") + (m ? m + "m " : "") + (s % 60) + "s";
  }
  function bytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }
  function sum(items, prefix) {
    let t = 0;
    for (const k in items) if (k.startsWith(prefix)) t += items[k];
    return t;
  }
  function cell(row, text) { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); }

  async function refreshStatus() {
    try {
      const [info, store] = await Promise.all([api("info", {}), request("admin/store")]);
      if (info.error) throw new Error(info.error.message);
      const nodes = info.result.nodes || [];
      $("t-nodes").textContent = nodes.length;
      $("t-clients").textContent = nodes.reduce((a, n) => a + (n.num_clients || 0), 0);
      $("t-channels").textContent = nodes.reduce((a, n) => a + (n.num_channels || 0), 0);
      $("t-store").textContent = store.engine || "–";
      const body = $("nodes").tBodies[0];
      body.textContent = "";
      for (const n of nodes) {
        const m = n.metrics || { interval: 0, items: {} };
        const rate = (v) => (m.interval ? (v / m.interval).toFixed(2) : "n/a");
        const tr = document.createElement("tr");
        [n.name, n.version, duration(n.uptime || 0), n.num_clients || 0, n.num_users || 0, n.num_subs || 0, n.num_channels || 0,
          rate(m.items["centrifugo.client.command_duration_seconds.count.method.connect"] || 0),
          rate(m.items["centrifugo.node.messages_sent_count.type.publication"] || 0),
          rate(sum(m.items, "centrifugo.api.command_duration_seconds.count."))].forEach((v) => cell(tr, String(v)));
        body.appendChild(tr);
      }
      const sbody = $("store").tBodies[0];
      sbody.textContent = "";
      for (const [k, v] of Object.entries(store)) {
        const tr = document.createElement("tr");
        cell(tr, k.replace(/_/g, " "));
        cell(tr, typeof v === "number" && /bytes|size/.test(k) ? bytes(v) : String(v));
        sbody.appendChild(tr);
      }
      $("status-updated").textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (e) {
      $("status-updated").textContent = "Could not load: " + e.message;
    }
  }

  // ---- actions ----
  const templates = {
    publish: { channel: "chat:index", data: { text: "hello" } },
    broadcast: { channels: ["chat:a", "chat:b"], data: { text: "hello" } },
    presence: { channel: "chat:index" },
    presence_stats: { channel: "chat:index" },
    history: { channel: "chat:index", limit: 10, reverse: true },
    history_remove: { channel: "chat:index" },
    subscribe: { user: "42", channel: "chat:index" },
    unsubscribe: { user: "42", channel: "chat:index" },
    disconnect: { user: "42" },
    info: {},
    rpc: { method: "", params: {} },
    channels: { pattern: "*" },
  };
  for (const name of Object.keys(templates)) {
    const o = document.createElement("option");
    o.value = o.textContent = name;
    $("method").appendChild(o);
  }
  const fill = () => { $("params").value = JSON.stringify(templates[$("method").value], null, 2); };
  $("method").addEventListener("change", fill);
  fill();
  $("action-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let params;
    try { params = JSON.parse($("params").value || "{}"); } catch (e) { $("action-response").textContent = "Params are not JSON: " + e.message; return; }
    const method = $("method").value;
    $("action-request").textContent = JSON.stringify({ method: method, params: params }, null, 2);
    try { $("action-response").textContent = JSON.stringify(await api(method, params), null, 2); } catch (e) { $("action-response").textContent = e.message; }
  });

  // ---- history browser ----
  let shown = [];
  let top = 0;
  let epoch = "";
  async function loadHistory(query) {
    $("h-error").textContent = "";
    const channel = $("h-channel").value.trim();
    if (!channel) return;
    const q = new URLSearchParams(Object.assign({ channel: channel, limit: $("h-limit").value || "10" }, query));
    if (epoch && q.has("since")) q.set("epoch", epoch);
    let page;
    try { page = await request("admin/history?" + q.toString()); } catch (e) { $("h-error").textContent = e.message; return; }
    if (page.error) { $("h-error").textContent = page.error.code + ": " + page.error.message; return; }
    top = page.top; epoch = page.epoch;
    shown = page.publications.slice().sort((a, b) => b.offset - a.offset);
    const body = $("h-table").tBodies[0];
    body.textContent = "";
    for (const p of shown) {
      const tr = document.createElement("tr");
      cell(tr, String(p.offset));
      cell(tr, p.time ? new Date(p.time).toLocaleTimeString() : "");
      cell(tr, bytes(p.size));
      const d = document.createElement("td");
      if (p.delta_size !== undefined) {
        d.textContent = bytes(p.delta_size) + " (" + Math.round(100 * p.delta_size / Math.max(1, p.size)) + "%)";
        d.className = p.delta_size < p.size ? "saving" : "";
      } else { d.textContent = page.delta ? "full" : "–"; }
      tr.appendChild(d);
      cell(tr, p.user !== undefined ? (p.user || "anonymous") + " · " + p.client.slice(0, 8) : "API");
      const td = document.createElement("td");
      const pre = document.createElement("pre");
      pre.textContent = p.b64data !== undefined ? "binary, base64: " + p.b64data : JSON.stringify(p.data, null, 2);
      if (p.tags) pre.textContent += "\ntags: " + JSON.stringify(p.tags);
      td.appendChild(pre);
      tr.appendChild(td);
      body.appendChild(tr);
    }
    const lo = shown.length ? shown[shown.length - 1].offset : 0, hi = shown.length ? shown[0].offset : 0;
    $("h-position").textContent = shown.length ? `offsets ${lo}–${hi} of ${top} · epoch ${epoch}` : `no publications · top ${top}`;
    $("h-older").disabled = !shown.length || lo <= 1;
    $("h-newer").disabled = !shown.length || hi >= top;
  }
  $("history-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    epoch = "";
    const since = $("h-since").value;
    loadHistory(since === "" ? { reverse: "true" } : { since: since });
  });
  $("h-newest").addEventListener("click", () => loadHistory({ reverse: "true" }));
  $("h-oldest").addEventListener("click", () => loadHistory({}));
  $("h-older").addEventListener("click", () => shown.length && loadHistory({ since: String(shown[shown.length - 1].offset), reverse: "true" }));
  $("h-newer").addEventListener("click", () => shown.length && loadHistory({ since: String(shown[0].offset) }));

  start();
})();
