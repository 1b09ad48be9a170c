// The localai-tts playground: plain browser JavaScript, no build step, no external resources.
// Every URL is relative, so the page works at / on the server and under a prefix such as /tts/ behind a proxy.
'use strict';

const SAMPLE_RATE = 24000;
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ API key

const KEY_STORAGE = 'localai-tts.apiKey';
let memoryKey = ''; // when the browser refuses localStorage

function apiKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch (_) { return memoryKey; }
}

function storeApiKey(key) {
  memoryKey = key;
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
  } catch (_) { /* private mode: kept for this page only */ }
}

/** The headers of a call, with the API key as a Bearer token when one is set. */
function withKey(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, Authorization: `Bearer ${key}` } : { ...headers };
}

/** Calls the API; throws an Error with the server's OpenAI-style message on a non-2xx answer. */
async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: withKey(options.headers) });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_) { /* not JSON */ }
    if (res.status === 401) message += apiKey() ? ' Check the API key at the top of the page.'
      : ' Enter the API key at the top of the page.';
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  return res;
}

function say(el, text, isError = false) {
  el.textContent = text;
  el.classList.toggle('error', isError);
}

// ------------------------------------------------------------------ server status

let serverReady = null; // null: not asked yet
let healthTimer = null;

/**
 * Follows GET health/ready: ready (with the model and device), or not ready with the server's reason (loading,
 * failed to load, shutting down), or unreachable. Polls quickly while not ready; loads the voices once it is.
 */
async function pollHealth() {
  clearTimeout(healthTimer);
  const el = $('server-status');
  let next = 5000;
  try {
    const res = await fetch('health/ready', { headers: withKey(), cache: 'no-store' });
    let body = {};
    try { body = await res.json(); } catch (_) { /* not JSON */ }
    if (res.ok) {
      const m = body.model;
      say(el, m ? `Ready: ${m.id} on ${m.device}${m.dtype ? ` (${m.dtype})` : ''}.` : 'Ready.');
      el.dataset.state = 'ready';
      if (serverReady !== true) {
        serverReady = true;
        loadVoices();
      }
      next = 15000;
    } else {
      const state = body.state || body.status || `HTTP ${res.status}`;
      const why = body.detail || res.statusText || '';
      say(el, `Not ready (${state})${why ? `: ${why}` : ''}`, state === 'failed');
      el.dataset.state = state;
      serverReady = false;
      next = state === 'failed' ? 10000 : 2000;
    }
  } catch (e) {
    say(el, `Server not reachable: ${e.message}`, true);
    el.dataset.state = 'unreachable';
    serverReady = false;
  }
  healthTimer = setTimeout(pollHealth, next);
}

// ------------------------------------------------------------------ streaming playback

/**
 * Turns 16-bit little-endian PCM that arrives in pieces cut anywhere into samples in [-1, 1): an odd last byte is
 * carried over to the next piece (whatever its value, 0 included).
 */
class Pcm16Decoder {
  constructor() {
    this.carry = null; // the odd trailing byte of the previous piece, or null
  }

  /** The samples completed by bytes (a Uint8Array), as a Float32Array. */
  push(bytes) {
    if (this.carry !== null) {
      const joined = new Uint8Array(bytes.length + 1);
      joined[0] = this.carry;
      joined.set(bytes, 1);
      bytes = joined;
      this.carry = null;
    }
    if (bytes.length % 2 === 1) {
      this.carry = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const n = bytes.length / 2;
    const out = new Float32Array(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true) / 32768;
    return out;
  }
}

/** Plays 16-bit little-endian mono PCM as it arrives, by scheduling Web Audio buffers back to back. */
class PcmPlayer {
  constructor(sampleRate) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    this.ctx = Ctx ? new Ctx() : null;
    this.sampleRate = sampleRate;
    this.next = 0;
    this.decoder = new Pcm16Decoder();
    this.sources = [];
    this.samples = 0; // handed to the speakers so far
  }

  push(bytes) {
    if (!this.ctx || bytes.length === 0) return;
    const samples = this.decoder.push(bytes);
    const n = samples.length;
    if (n === 0) return;
    const buffer = this.ctx.createBuffer(1, n, this.sampleRate);
    buffer.getChannelData(0).set(samples);
    this.samples += n;
    const src = this.ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(this.ctx.destination);
    const at = Math.max(this.next, this.ctx.currentTime + 0.05);
    src.start(at);
    this.next = at + buffer.duration;
    this.sources.push(src);
  }

  stop() {
    for (const s of this.sources) { try { s.stop(); } catch (_) { /* already ended */ } }
    if (this.ctx) this.ctx.close();
  }
}

/** Finds the first sample byte of a WAV header (the byte after the 'data' chunk header), or -1 if not yet known. */
function wavDataOffset(bytes) {
  if (bytes.length < 12) return -1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = String.fromCharCode(bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]);
    const size = view.getUint32(pos + 4, true);
    if (id === 'data') return pos + 8;
    pos += 8 + size + (size % 2);
  }
  return -1;
}

/** A 44-byte WAV header for mono 16-bit PCM. */
function wavHeader(dataBytes, sampleRate) {
  const h = new DataView(new ArrayBuffer(44));
  const ascii = (off, s) => { for (let i = 0; i < 4; i++) h.setUint8(off + i, s.charCodeAt(i)); };
  ascii(0, 'RIFF'); h.setUint32(4, 36 + dataBytes, true); ascii(8, 'WAVE');
  ascii(12, 'fmt '); h.setUint32(16, 16, true); h.setUint16(20, 1, true); h.setUint16(22, 1, true);
  h.setUint32(24, sampleRate, true); h.setUint32(28, sampleRate * 2, true); h.setUint16(32, 2, true);
  h.setUint16(34, 16, true); ascii(36, 'data'); h.setUint32(40, dataBytes, true);
  return new Uint8Array(h.buffer);
}

function concat(chunks, total) {
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) { out.set(c, off); off += c.length; }
  return out;
}

// ------------------------------------------------------------------ speaking

const MIME = { wav: 'audio/wav', mp3: 'audio/mpeg', opus: 'audio/ogg', aac: 'audio/aac', flac: 'audio/flac', pcm: 'audio/pcm' };
let current = null; // { abort: AbortController, player: PcmPlayer|null }
let objectUrl = null;

function fmtSeconds(s) { return `${s.toFixed(2)} s`; }

/** Hides the previous result: its audio, download and figures. */
function clearResult() {
  $('result').hidden = true;
  const audio = $('player');
  audio.pause();
  audio.removeAttribute('src');
  audio.load();
  if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
  const download = $('download');
  if (download.dataset.url) { URL.revokeObjectURL(download.dataset.url); delete download.dataset.url; }
  download.href = '#';
  for (const id of ['stat-audio', 'stat-time', 'stat-first', 'stat-rtf']) $(id).textContent = '–';
  delete $('result').dataset.streamedSamples;
  $('speak-progress').textContent = '';
}

/** "2.3 s elapsed, 1.10 s of audio" while a request runs: its time so far and how much audio has arrived. */
function progressText(elapsed, audioSeconds, bytes) {
  const got = audioSeconds !== null ? `${fmtSeconds(audioSeconds)} of audio`
    : bytes > 0 ? `${(bytes / 1024).toFixed(1)} KiB received` : 'waiting for the first audio';
  return `${elapsed.toFixed(1)} s elapsed, ${got}`;
}

/** Synthesises {input, voice, response_format, speed, ...} and shows, plays and offers the result. */
async function speak(request, label) {
  stopSpeaking();
  clearResult();
  const status = $('speak-status');
  const progress = $('speak-progress');
  const abort = new AbortController();
  const format = request.response_format;
  const streamPlay = $('stream').checked && (format === 'wav' || format === 'pcm');
  const player = streamPlay ? new PcmPlayer(SAMPLE_RATE) : null;
  current = { abort, player };
  $('speak').disabled = true;
  $('stop').disabled = false;
  say(status, `Generating ${label}…`);

  const t0 = performance.now();
  let firstAt = null;
  let total = 0;
  let audioSeconds = null; // known for WAV and PCM as the samples arrive
  const tick = () => { progress.textContent = progressText((performance.now() - t0) / 1000, audioSeconds, total); };
  tick();
  const ticker = setInterval(tick, 200);
  try {
    const res = await api('v1/audio/speech', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      // not played while generated: ask for a whole file, which carries the server's timing headers
      body: JSON.stringify({ model: 'tts-1', ...request, ...(streamPlay ? {} : { stream: false }) }),
      signal: abort.signal,
    });
    const warning = res.headers.get('X-TTS-Warning');
    const reader = res.body.getReader();
    const chunks = [];
    // where the samples start in the stream: 0 for PCM, after the header for WAV (-1 until it is known)
    let dataStart = format === 'pcm' ? 0 : format === 'wav' ? -1 : null;
    let head = new Uint8Array(0); // WAV bytes until the samples start
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (firstAt === null) firstAt = performance.now();
      chunks.push(value);
      total += value.length;
      if (dataStart === -1) {
        head = concat([head, value], head.length + value.length);
        const off = wavDataOffset(head);
        if (off >= 0) {
          dataStart = off;
          if (player) player.push(head.subarray(off));
          head = null;
        }
      } else if (player) {
        player.push(value);
      }
      if (dataStart !== null && dataStart >= 0) audioSeconds = (total - dataStart) / 2 / SAMPLE_RATE;
      tick();
    }
    clearInterval(ticker);
    const seconds = (performance.now() - t0) / 1000;
    const bytes = concat(chunks, total);
    const shownSeconds = showResult(bytes, format, res.headers, seconds, firstAt === null ? null : (firstAt - t0) / 1000,
      !player);
    // how much of it went to the speakers while it was generated (0 when it was not streamed)
    $('result').dataset.streamedSamples = String(player ? player.samples : 0);
    progress.textContent = progressText(seconds, audioSeconds !== null ? audioSeconds : shownSeconds, total);
    say(status, `Done: ${label}.${warning ? ` (${warning}.)` : ''}`);
  } catch (e) {
    if (player) player.stop();
    // when a newer request (a preview clicked meanwhile) replaced this one, the status line is the newer one's
    if (e.name !== 'AbortError') say(status, `Failed: ${e.message}`, true);
  } finally {
    clearInterval(ticker);
    if (!current || current.abort === abort) {
      $('speak').disabled = false;
      $('stop').disabled = true;
    }
    if (current && current.abort === abort) current.abort = null;
  }
}

function stopSpeaking() {
  if (!current) return;
  if (current.abort) current.abort.abort();
  if (current.player) current.player.stop();
  current = null;
}

/**
 * Puts the finished audio into the player and the download link, and fills in the figures. Returns the audio's
 * length in seconds when known from the bytes or the headers, else null.
 */
function showResult(bytes, format, headers, seconds, firstSeconds, autoplay) {
  let playable = bytes;
  let audioSeconds = null;
  if (format === 'wav') {
    const off = wavDataOffset(bytes);
    if (off >= 0) {
      // a streamed WAV carries 0xFFFFFFFF as its sizes: write the real ones so every player can seek
      playable = concat([wavHeader(bytes.length - off, SAMPLE_RATE), bytes.subarray(off)], 44 + bytes.length - off);
      audioSeconds = (bytes.length - off) / 2 / SAMPLE_RATE;
    }
  } else if (format === 'pcm') {
    playable = concat([wavHeader(bytes.length, SAMPLE_RATE), bytes], 44 + bytes.length);
    audioSeconds = bytes.length / 2 / SAMPLE_RATE;
  }
  const playType = format === 'pcm' ? 'audio/wav' : MIME[format];
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = URL.createObjectURL(new Blob([playable], { type: playType }));
  const audio = $('player');
  audio.src = objectUrl;

  const download = $('download');
  const downloadBytes = format === 'wav' ? playable : bytes;
  if (download.dataset.url) URL.revokeObjectURL(download.dataset.url);
  download.dataset.url = URL.createObjectURL(new Blob([downloadBytes], { type: MIME[format] }));
  download.href = download.dataset.url;
  download.download = `speech.${format}`;
  download.textContent = `Download speech.${format} (${(downloadBytes.length / 1024).toFixed(1)} KiB)`;

  const serverTime = parseFloat(headers.get('X-Generation-Time'));
  const genSeconds = Number.isFinite(serverTime) ? serverTime : seconds;
  const fill = (dur) => {
    $('stat-audio').textContent = dur ? fmtSeconds(dur) : '–';
    $('stat-time').textContent = fmtSeconds(genSeconds) + (Number.isFinite(serverTime) ? ' (server)' : '');
    $('stat-first').textContent = firstSeconds === null ? '–' : fmtSeconds(firstSeconds);
    const rtf = parseFloat(headers.get('X-Real-Time-Factor'));
    $('stat-rtf').textContent = Number.isFinite(rtf) ? rtf.toFixed(3) : dur ? (genSeconds / dur).toFixed(3) : '–';
  };
  const headerDuration = parseFloat(headers.get('X-Audio-Duration'));
  fill(audioSeconds || (Number.isFinite(headerDuration) ? headerDuration : null));
  if (!audioSeconds && !Number.isFinite(headerDuration)) {
    audio.addEventListener('loadedmetadata', () => fill(Number.isFinite(audio.duration) ? audio.duration : null), { once: true });
  }
  $('result').hidden = false;
  if (autoplay) audio.play().catch(() => { /* autoplay refused: the controls are there */ });
  return audioSeconds || (Number.isFinite(headerDuration) ? headerDuration : null);
}

function speakFromForm(event) {
  event.preventDefault();
  const text = $('text').value.trim();
  if (!text) { say($('speak-status'), 'Type some text first.', true); $('text').focus(); return; }
  const request = {
    input: text,
    voice: $('voice').value,
    response_format: $('format').value,
    speed: parseFloat($('speed').value),
    temperature: parseFloat($('temperature').value),
  };
  const seed = $('seed').value.trim();
  if (seed !== '') {
    if (!/^\d+$/.test(seed)) {
      say($('speak-status'), 'The seed is a whole number (0 or more).', true);
      $('advanced').open = true;
      $('seed').focus();
      return;
    }
    request.seed = Number(seed);
  }
  speak(request, 'speech');
}

// ------------------------------------------------------------------ tags

/** Puts tag into the text box at the cursor (replacing a selection), with spaces around it as needed. */
function insertAtCursor(textarea, tag) {
  const start = textarea.selectionStart ?? textarea.value.length;
  const end = textarea.selectionEnd ?? start;
  const before = textarea.value.slice(0, start);
  const after = textarea.value.slice(end);
  const text = (before && !/\s$/.test(before) ? ' ' : '') + tag + (after && !/^\s/.test(after) ? ' ' : '');
  textarea.setRangeText(text, start, end, 'end');
  textarea.focus();
}

/** Fills the tag palette from GET v1/audio/tags. */
async function loadTags() {
  const box = $('tags');
  try {
    const list = await (await api('v1/audio/tags')).json();
    box.replaceChildren(...(list.tags || []).map((t) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `tag ${t.kind || ''}`.trim();
      b.dataset.tag = t.tag;
      b.textContent = t.tag;
      b.title = t.kind === 'sound' ? 'A sound, performed here' : 'Colours the delivery around it';
      return b;
    }));
  } catch (e) {
    box.textContent = `Tags unavailable: ${e.message}`;
  }
}

// ------------------------------------------------------------------ voices

let voices = [];

async function loadVoices() {
  try {
    const list = await (await api('v1/audio/voices')).json();
    voices = (list.voices || []).map((v) => (typeof v === 'string' ? { id: v, name: v } : v));
  } catch (e) {
    say($('voices-status'), `Cannot list voices: ${e.message}`, true);
    return;
  }
  if ($('voices-status').textContent.startsWith('Cannot list voices')) say($('voices-status'), '');
  renderVoicePicker();
  renderVoiceTable();
}

function renderVoicePicker() {
  const select = $('voice');
  const chosen = select.value;
  select.replaceChildren(...voices.map((v) => new Option(v.name && v.name !== v.id ? `${v.name} (${v.id})` : v.id, v.id)));
  if (voices.some((v) => v.id === chosen)) select.value = chosen;
}

function renderVoiceTable() {
  const body = document.querySelector('#voice-list tbody');
  const template = $('voice-row');
  body.replaceChildren(...voices.map((v) => {
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.voiceId = v.id;
    row.querySelector('.voice-name').textContent = v.name || v.id;
    row.querySelector('.voice-id').textContent = v.id;
    row.querySelector('.voice-added').textContent = v.created_at ? new Date(v.created_at * 1000).toLocaleString() : '';
    const preview = row.querySelector('.preview');
    const rename = row.querySelector('.rename');
    const del = row.querySelector('.delete');
    preview.setAttribute('aria-label', `Preview ${v.name || v.id}`);
    rename.setAttribute('aria-label', `Rename ${v.name || v.id}`);
    del.setAttribute('aria-label', `Delete ${v.name || v.id}`);
    preview.addEventListener('click', () => previewVoice(v));
    if (v.built_in) {
      rename.disabled = true;
      del.disabled = true;
      rename.title = del.title = 'Built-in voices cannot be changed';
    } else {
      rename.addEventListener('click', () => startRename(row, v));
      del.addEventListener('click', () => deleteVoice(v));
    }
    return row;
  }));
}

function previewVoice(v) {
  $('voice').value = v.id;
  speak({
    input: `Hello, I am ${v.name || v.id}.`,
    voice: v.id,
    response_format: 'wav',
    speed: 1,
  }, `a preview of ${v.name || v.id}`);
}

async function uploadVoice(event) {
  event.preventDefault();
  const status = $('voices-status');
  const name = $('voice-name').value.trim();
  const file = $('voice-file').files[0];
  if (!name || !file) { say(status, 'Give the voice a name and choose a clip.', true); return; }
  const form = new FormData();
  form.append('name', name);
  form.append('audio_sample', file, file.name);
  $('upload').disabled = true;
  say(status, `Uploading ${name}…`);
  try {
    const voice = await (await api('v1/audio/voices', { method: 'POST', body: form })).json();
    say(status, `Added voice ${voice.name || voice.id}.`);
    $('upload-form').reset();
    await loadVoices();
  } catch (e) {
    say(status, `Upload failed: ${e.message}`, true);
  } finally {
    $('upload').disabled = false;
  }
}

async function deleteVoice(v) {
  if (!window.confirm(`Delete the voice ${v.name || v.id}?`)) return;
  const status = $('voices-status');
  try {
    await api(`v1/audio/voices/${encodeURIComponent(v.id)}`, { method: 'DELETE' });
    say(status, `Deleted voice ${v.name || v.id}.`);
    await loadVoices();
  } catch (e) {
    say(status, `Delete failed: ${e.message}`, true);
  }
}

/** Swaps the name cell for a small form: new name, Save, Cancel (Escape cancels too). */
function startRename(row, v) {
  const cell = row.querySelector('.voice-name');
  const form = document.createElement('form');
  form.className = 'rename-form';
  const id = `rename-${v.id}`;
  form.innerHTML = `<label class="visually-hidden" for="${id}"></label>
    <input id="${id}" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_\\-]*" autocomplete="off">
    <button type="submit">Save</button> <button type="button" class="cancel">Cancel</button>`;
  form.querySelector('label').textContent = `New name for ${v.name || v.id}`;
  const input = form.querySelector('input');
  input.value = v.name || v.id;
  const cancel = () => renderVoiceTable();
  form.querySelector('.cancel').addEventListener('click', cancel);
  input.addEventListener('keydown', (e) => { if (e.key === 'Escape') cancel(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = input.value.trim();
    const status = $('voices-status');
    try {
      await api(`v1/audio/voices/${encodeURIComponent(v.id)}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      say(status, `Renamed ${v.name || v.id} to ${name}.`);
      await loadVoices();
    } catch (err) {
      say(status, `Rename failed: ${err.message}`, true);
    }
  });
  cell.replaceChildren(form);
  input.focus();
  input.select();
}

// ------------------------------------------------------------------ wiring

document.addEventListener('DOMContentLoaded', () => {
  $('speak-form').addEventListener('submit', speakFromForm);
  $('stop').addEventListener('click', () => { stopSpeaking(); say($('speak-status'), 'Stopped.'); });
  $('text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('speak-form').requestSubmit();
  });
  const speed = $('speed');
  const showSpeed = () => { $('speed-value').textContent = `${parseFloat(speed.value).toFixed(2)}×`; };
  speed.addEventListener('input', showSpeed);
  showSpeed();
  const temperature = $('temperature');
  const showTemperature = () => { $('temperature-value').textContent = parseFloat(temperature.value).toFixed(2); };
  temperature.addEventListener('input', showTemperature);
  showTemperature();
  $('tag-palette').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-tag]');
    if (b) insertAtCursor($('text'), b.dataset.tag);
  });
  $('api-key').value = apiKey();
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('api-key').value.trim();
    storeApiKey(key);
    say($('voices-status'), key ? 'API key saved in this browser.' : 'API key forgotten.');
    pollHealth();
    loadVoices();
  });
  $('upload-form').addEventListener('submit', uploadVoice);
  pollHealth();
  loadTags();
  loadVoices();
});
