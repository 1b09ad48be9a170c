// Home-lab page of the manager: polls /status, follows /api/events, drives /gaming-mode and start/stop.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const KEY = 'localai-manager-key';
  const MAX_EVENTS = 50;
  $('api-key').value = localStorage.getItem(KEY) || '';
  $('save-key').addEventListener('click', () => {
    localStorage.setItem(KEY, $('api-key').value);
    refresh();
    follow();
  });

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const k = $('api-key').value;
    if (k) h['Authorization'] = 'Bearer ' + k;
    return h;
  }

  async function call(method, path, body) {
    const res = await fetch(path, { method, headers: headers(body ? { 'Content-Type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    if (!res.ok) {
      const msg = json && json.error ? json.error.message : (res.status + ' ' + res.statusText);
      throw new Error(msg);
    }
    return json;
  }

  function say(text) { $('message').textContent = text; }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function button(label, aria, action) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.setAttribute('aria-label', aria);
    b.addEventListener('click', async () => {
      b.disabled = true;
      try { await action(); } catch (e) { say(e.message); } finally { b.disabled = false; refresh(); }
    });
    return b;
  }

  function render(st) {
    const gaming = !!st.gaming_mode;
    const toggle = $('gaming-toggle');
    if (!toggle.disabled) toggle.checked = gaming;
    const safe = $('safe-to-game');
    // the reason is the manager's own sentence (docker unreachable, containers still running...), shown as text
    safe.textContent = st.safe_to_game ? 'yes' : (st.gaming_mode && st.safe_to_game_reason ? 'no: ' + st.safe_to_game_reason : 'no');
    safe.className = st.safe_to_game ? 'yes' : 'no';
    $('vram').textContent = st.gpu_vram_gb == null ? 'unknown (no nvidia-smi)'
      : (st.gpu_vram_used_gb + ' GB used of ' + st.gpu_vram_gb + ' GB');
    $('active-requests').textContent = String(st.active_requests || 0);
    const rt = st.container_runtime || {};
    $('runtime').textContent = (rt.available ? 'Docker available' : 'Docker unavailable: ' + (rt.error || ''))
      + ' · ' + (st.gaming_mode ? 'gaming mode' : 'normal mode');
    const tbody = $('models').querySelector('tbody');
    tbody.replaceChildren();
    const models = st.models || {};
    Object.keys(models).forEach((id) => {
      const m = models[id];
      const tr = document.createElement('tr');
      tr.id = 'model-' + id;
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = id;
      tr.appendChild(th);
      cell(tr, m.type).dataset.label = 'Type';
      // a cold start shows its progress (the manager sends a progress event every second while it waits)
      const state = m.state === 'starting' && m.start_elapsed_s != null
        ? 'starting (' + m.start_elapsed_s + ' s of ' + m.start_timeout_s + ' s)' : m.state;
      cell(tr, state + (m.last_error ? ' (' + m.last_error + ')' : ''), 'state state-' + m.state).dataset.label = 'State';
      cell(tr, String(m.inflight)).dataset.label = 'In flight';
      cell(tr, m.vram_mb ? (m.vram_mb + ' MiB') : '-').dataset.label = 'VRAM';
      cell(tr, m.keep_warm ? 'yes' : 'no').dataset.label = 'Keep warm';
      const actions = cell(tr, '');
      actions.dataset.label = 'Actions';
      actions.appendChild(button('Start', 'Start ' + id, () => call('POST', '/start/' + encodeURIComponent(id) + '?wait_s=1')));
      actions.appendChild(document.createTextNode(' '));
      actions.appendChild(button('Stop', 'Stop ' + id, () => call('POST', '/stop/' + encodeURIComponent(id) + '?wait_s=1')));
      tbody.appendChild(tr);
    });
  }

  async function refresh() {
    try { render(await call('GET', '/status')); } catch (e) { say('Status unavailable: ' + e.message); }
  }

  $('gaming-toggle').addEventListener('change', async (ev) => {
    const t = ev.target;
    const enable = t.checked;
    t.disabled = true;
    say(enable ? 'Entering gaming mode…' : 'Leaving gaming mode…');
    try {
      const r = await call('POST', '/gaming-mode?enable=' + enable);
      say(enable ? ('Gaming mode on; safe to game: ' + (r.safe_to_game ? 'yes' : 'no: ' + (r.safe_to_game_reason || 'unknown')))
        : 'Gaming mode off; keep-warm models are starting');
    } catch (e) {
      say('Gaming mode switch failed: ' + e.message);
      t.checked = !enable;
    } finally {
      t.disabled = false;
      refresh();
    }
  });

  function addEvent(type, data) {
    const li = document.createElement('li');
    const when = new Date(data.time || Date.now()).toLocaleTimeString();
    const what = data.model ? data.model + ': ' : '';
    const detail = data.state || (data.gaming_mode !== undefined ? ('gaming_mode=' + data.gaming_mode) : '')
      || (data.available !== undefined ? ('docker ' + (data.available ? 'up' : 'down')) : '');
    li.textContent = when + ' ' + type + ' ' + what + detail + (data.reason ? ' (' + data.reason + ')' : '')
      + (data.error ? ' — ' + data.error : '');
    const list = $('events');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_EVENTS) list.removeChild(list.lastChild);
  }

  // SSE over fetch (EventSource cannot send the Authorization header)
  let stream = null;
  async function follow() {
    if (stream) stream.abort();
    stream = new AbortController();
    try {
      const res = await fetch('/api/events', { headers: headers(), signal: stream.signal });
      if (!res.ok || !res.body) throw new Error(String(res.status));
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = 'message';
          let data = '';
          block.split('\n').forEach((line) => {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          });
          if (!data) continue;
          const d = JSON.parse(data);
          if (!d.snapshot) addEvent(type, d);
          refresh();
        }
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
    }
    setTimeout(follow, 3000);
  }

  refresh();
  follow();
  setInterval(refresh, 5000);
})();
