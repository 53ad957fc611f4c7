// The registry page: a snapshot from api/v1/names, kept current by the
// api/v1/events stream. Filtering is done by the server (list()'s own
// semantics and error messages); the page refetches the filtered list when a
// change arrives. Every value is set as text, never parsed as HTML.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const MODES = ['prefix', 'regex', 'metadata_all', 'metadata_any'];
  const state = {
    all: new Map(),      // name -> {uri, metadata}
    filtered: null,      // entries the filter selects, or null when no filter is given
    error: '',
    loading: false,
    queued: [],          // events that arrived while the snapshot loaded
    fresh: new Map(),    // name -> time it last changed, for the highlight
    es: null,
    filterSeq: 0,
  };

  function filterParams() {
    const mode = $('mode').value;
    const q = $('q').value;
    const p = new URLSearchParams();
    if (mode === 'metadata_all' || mode === 'metadata_any') {
      q.split(',').map((t) => t.trim()).filter((t) => t !== '').forEach((t) => p.append(mode, t));
    } else if (q !== '') {
      p.set(mode, q);
    }
    return p;
  }

  function readURL() {
    const p = new URLSearchParams(location.search);
    for (const mode of MODES) {
      if (p.has(mode)) {
        $('mode').value = mode;
        $('q').value = mode.startsWith('metadata') ? p.getAll(mode).join(', ') : p.get(mode);
        return;
      }
    }
  }

  function writeURL() {
    const p = filterParams().toString();
    history.replaceState(null, '', p ? '?' + p : location.pathname);
  }

  async function fetchNames(params) {
    const qs = params.toString();
    const r = await fetch('api/v1/names' + (qs ? '?' + qs : ''), { cache: 'no-store' });
    let body;
    try {
      body = await r.json();
    } catch (e) {
      throw new Error(r.status + ' ' + r.statusText);
    }
    if (!r.ok) throw new Error(body && body.error ? body.error : r.status + ' ' + r.statusText);
    return body;
  }

  // loadAll replaces the snapshot, then applies what arrived meanwhile: the
  // stream was subscribed first, so nothing falls in between.
  async function loadAll() {
    state.loading = true;
    state.queued = [];
    try {
      const entries = await fetchNames(new URLSearchParams());
      state.all = new Map(entries.map((e) => [e.name, { uri: e.uri, metadata: e.metadata }]));
      state.error = '';
    } catch (e) {
      state.error = 'cannot load names: ' + e.message;
    }
    state.loading = false;
    const q = state.queued;
    state.queued = [];
    q.forEach(([op, ev]) => applyEvent(op, ev, false));
    await refreshFilter();
    document.body.dataset.loaded = '1';
  }

  function applyEvent(op, ev, mark) {
    if (op === 'remove') {
      state.all.delete(ev.name);
      state.fresh.delete(ev.name);
    } else {
      state.all.set(ev.name, { uri: ev.uri, metadata: ev.metadata || [] });
      if (mark) state.fresh.set(ev.name, Date.now());
    }
  }

  let refetchTimer = 0;
  function onEvent(op, msg) {
    let ev;
    try {
      ev = JSON.parse(msg.data);
    } catch (e) {
      return;
    }
    if (state.loading) {
      state.queued.push([op, ev]);
      return;
    }
    applyEvent(op, ev, true);
    if (state.filtered === null) {
      render();
    } else {
      clearTimeout(refetchTimer);
      refetchTimer = setTimeout(refreshFilter, 150);
    }
  }

  async function refreshFilter() {
    const p = filterParams();
    const seq = ++state.filterSeq;
    if (p.toString() === '') {
      state.filtered = null;
      state.error = state.error.startsWith('cannot load') ? state.error : '';
      render();
      return;
    }
    try {
      const entries = await fetchNames(p);
      if (seq !== state.filterSeq) return; // a newer filter is on its way
      state.filtered = entries;
      state.error = '';
    } catch (e) {
      if (seq !== state.filterSeq) return;
      state.filtered = [];
      state.error = e.message;
    }
    render();
  }

  function byName(a, b) {
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  }

  function render() {
    const entries = state.filtered !== null
      ? state.filtered.slice()
      : Array.from(state.all, ([name, v]) => ({ name, uri: v.uri, metadata: v.metadata }));
    entries.sort(byName);
    const now = Date.now();
    for (const [n, t] of state.fresh) if (now - t >= 2500) state.fresh.delete(n);
    const frag = document.createDocumentFragment();
    for (const e of entries) {
      const li = document.createElement('li');
      li.className = 'entry';
      li.dataset.name = e.name;
      const changed = state.fresh.get(e.name);
      if (changed && now - changed < 2500) li.classList.add('fresh');
      const name = document.createElement('div');
      name.className = 'name';
      name.textContent = e.name;
      const uri = document.createElement('div');
      uri.className = 'uri';
      uri.textContent = e.uri;
      const tags = document.createElement('ul');
      tags.className = 'tags';
      tags.setAttribute('aria-label', 'metadata');
      for (const t of e.metadata || []) {
        const tag = document.createElement('li');
        tag.textContent = t;
        tags.appendChild(tag);
      }
      li.append(name, uri, tags);
      frag.appendChild(li);
    }
    if (entries.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = state.filtered !== null ? 'No name matches this filter.' : 'No names registered.';
      frag.appendChild(li);
    }
    const list = $('names');
    list.replaceChildren(frag);
    list.dataset.count = String(entries.length);
    const total = state.all.size;
    $('count').textContent = state.filtered !== null
      ? entries.length + ' of ' + total + ' names'
      : total + (total === 1 ? ' name' : ' names');
    const err = $('error');
    err.textContent = state.error;
    err.hidden = state.error === '';
  }

  function setLive(s) {
    const el = $('live');
    el.dataset.state = s;
    el.textContent = s;
  }

  function connect() {
    const es = new EventSource('api/v1/events');
    state.es = es;
    es.addEventListener('open', () => setLive('live'));
    es.addEventListener('ready', () => { setLive('live'); loadAll(); });
    for (const op of ['register', 'change', 'remove']) {
      es.addEventListener(op, (m) => onEvent(op, m));
    }
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) {
        // Refused (no feed, too many streams): show a snapshot and try
        // again later rather than never.
        setLive('offline');
        loadAll();
        setTimeout(connect, 10000);
      } else {
        setLive('reconnecting');
      }
    });
  }

  function fmtUptime(s) {
    s = Math.floor(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    return m + 'm ' + (s % 60) + 's';
  }

  async function loadStatus() {
    try {
      const r = await fetch('api/v1/status', { cache: 'no-store' });
      if (!r.ok) return;
      const st = await r.json();
      const parts = [];
      if (st.version) parts.push(st.version);
      if (st.ns_uri) parts.push(st.ns_uri);
      if (st.store) parts.push('store ' + st.store);
      if (st.tls && st.tls.enabled) parts.push('TLS');
      if (st.cluster) parts.push(st.cluster.backend + ' ' + st.cluster.state);
      if (st.connections) parts.push(st.connections.open + ' connections');
      parts.push('up ' + fmtUptime(st.uptime_seconds || 0));
      $('server').textContent = parts.join(' · ');
    } catch (e) {
      // the status line is a nicety; the list does not depend on it
    }
  }

  let inputTimer = 0;
  function onFilterInput() {
    clearTimeout(inputTimer);
    inputTimer = setTimeout(() => { writeURL(); refreshFilter(); }, 150);
  }

  readURL();
  $('q').addEventListener('input', onFilterInput);
  $('mode').addEventListener('change', onFilterInput);
  $('filter').addEventListener('submit', (e) => { e.preventDefault(); writeURL(); refreshFilter(); });
  render();
  connect();
  loadStatus();
  setInterval(loadStatus, 30000);
})();
