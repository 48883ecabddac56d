// sae4j web UI: feature browser, chat with steering, token view. Plain DOM; every piece of corpus or model text is
// put on the page as a text node (never as HTML).
'use strict';

const view = document.getElementById('view');
const noticeBox = document.getElementById('notice');
let info = null;

/** Makes an element: el('a', {href: '#', class: 'x'}, 'text', child). Strings become text nodes. */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && k !== 'list') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function notice(message) {
  noticeBox.textContent = message || '';
  noticeBox.hidden = !message;
}

async function api(path, options) {
  const r = await fetch(path, options);
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  if (!r.ok) throw new Error((body && body.error) || (r.status + ' ' + r.statusText));
  return body;
}

function fmtPct(x) { return (100 * x).toPrecision(3) + '%'; }
function fmt(x, digits) { return Number(x).toFixed(digits === undefined ? 3 : digits); }

function route() {
  notice('');
  const hash = location.hash || '#/features';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('nav a[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === (parts[0] === 'feature' ? 'features' : parts[0]));
  }
  view.replaceChildren();
  const page = parts[0] || 'features';
  const show = page === 'feature' ? featurePage(parts[1])
    : page === 'chat' ? chatPage(params)
    : page === 'inspect' ? inspectPage()
    : featureList(params);
  Promise.resolve(show).catch(e => notice(e.message));
}

// ---------------------------------------------------------------- feature list

async function featureList(params) {
  const q = params.get('q') || '';
  const sort = params.get('sort') || (info && info.labeled ? 'confidence' : 'latent');
  const search = el('input', {type: 'search', id: 'feature-search', placeholder: 'search labels or a latent number',
    value: q, size: 40});
  const sortBox = el('select', {id: 'feature-sort'},
    ['confidence', 'density', 'latent'].map(s => el('option', {value: s, selected: s === sort}, 'by ' + s)));
  const go = () => { location.hash = '#/features?q=' + encodeURIComponent(search.value) + '&sort=' + sortBox.value; };
  let timer = null;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(go, 300); });
  sortBox.addEventListener('change', go);
  const body = el('tbody');
  const count = el('span', {class: 'muted', id: 'feature-count'});
  const more = el('button', {class: 'secondary', hidden: true}, 'more');
  view.append(el('h2', {}, 'Features'), el('div', {class: 'row'}, search, sortBox, count),
    el('table', {id: 'feature-table'}, el('thead', {}, el('tr', {}, el('th', {}, 'latent'), el('th', {}, 'label'),
      el('th', {}, 'confidence'), el('th', {}, 'density'))), body), more);
  if (q) search.focus();
  let offset = 0;
  async function page() {
    const r = await api('/api/features?q=' + encodeURIComponent(q) + '&sort=' + sort + '&offset=' + offset
      + '&limit=100');
    for (const f of r.items) {
      body.append(el('tr', {},
        el('td', {class: 'num'}, el('a', {href: '#/feature/' + f.latent}, String(f.latent))),
        el('td', {}, f.label !== null ? el('a', {href: '#/feature/' + f.latent}, f.label)
          : el('span', {class: 'missing'}, f.dead ? 'dead' : 'not labeled')),
        el('td', {class: 'num'}, f.confidence === null ? '' : fmt(f.confidence, 2)),
        el('td', {class: 'num'}, fmtPct(f.density))));
    }
    offset += r.items.length;
    count.textContent = r.total + (r.total === 1 ? ' feature' : ' features') + (q ? ' match' : '');
    more.hidden = offset >= r.total;
  }
  more.addEventListener('click', () => page().catch(e => notice(e.message)));
  await page();
}

// ---------------------------------------------------------------- one feature

function histogram(counts, minExponent) {
  const ns = 'http://www.w3.org/2000/svg';
  const w = 480, h = 110, pad = 22, bw = (w - 2 * pad) / counts.length;
  const max = Math.max(1, ...counts);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', w); svg.setAttribute('height', h); svg.setAttribute('class', 'hist');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'histogram of activations in powers of two');
  counts.forEach((c, i) => {
    const bh = c === 0 ? 0 : Math.max(1, (h - 2 * pad) * c / max);
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', pad + i * bw + 1); r.setAttribute('y', h - pad - bh);
    r.setAttribute('width', Math.max(1, bw - 2)); r.setAttribute('height', bh); r.setAttribute('fill', '#2457c5');
    const t = document.createElementNS(ns, 'title');
    t.textContent = '[2^' + (minExponent + i) + ', 2^' + (minExponent + i + 1) + '): ' + c + ' tokens';
    r.append(t);
    svg.append(r);
  });
  for (const [i, label] of [[0, '2^' + minExponent], [counts.length, '2^' + (minExponent + counts.length)]]) {
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', pad + i * bw); t.setAttribute('y', h - 6); t.setAttribute('font-size', '11');
    t.setAttribute('text-anchor', i === 0 ? 'start' : 'end'); t.setAttribute('fill', '#6b7280');
    t.textContent = label;
    svg.append(t);
  }
  return svg;
}

/** A sentence with each token shaded by its activation relative to the sentence's peak. */
function shadedTokens(tokens, activations) {
  const peak = Math.max(0, ...activations);
  return tokens.map((t, i) => {
    const a = activations[i];
    const s = el('span', {class: 'tok' + (peak > 0 && a >= 0.5 * peak ? ' on' : ''), title: 'activation ' + fmt(a)},
      t);
    if (peak > 0 && a >= 0.05 * peak) s.style.backgroundColor = 'rgba(245, 158, 11, ' + (0.8 * a / peak).toFixed(3) + ')';
    return s;
  });
}

async function featurePage(id) {
  const f = await api('/api/features/' + encodeURIComponent(id) + '?examples=12');
  const label = f.label !== null
    ? el('div', {class: 'label', id: 'feature-label'}, f.label)
    : el('div', {class: 'label missing', id: 'feature-label'}, f.labelMissing);
  const steer = el('button', {id: 'steer-with-this', onclick: () => { location.hash = '#/chat?steer=' + f.latent; }},
    'Steer with this');
  view.append(...[
    el('div', {class: 'row'}, el('h2', {}, 'Feature ' + f.latent), steer),
    label,
    el('div', {class: 'stats'},
      el('div', {}, el('span', {}, 'confidence'), f.confidence === undefined ? '—' : fmt(f.confidence, 2)),
      el('div', {}, el('span', {}, 'labeled by'), f.labeler || '—'),
      el('div', {}, el('span', {}, 'density'), fmtPct(f.density) + ' of tokens (' + f.firingTokens + ')'),
      el('div', {}, el('span', {}, 'mean activation when firing'), fmt(f.meanActivation)),
      f.dead ? el('div', {}, el('span', {}, 'status'), 'dead') : null),
    el('h3', {}, 'Activation histogram'),
    histogram(f.histogram, f.histogramMinExponent),
    el('h3', {}, 'Top sentences'),
    f.examples.length === 0 ? el('p', {class: 'muted'}, 'This latent never fired on the mined sentences.') : null,
    el('div', {id: 'examples'}, f.examples.map(e => el('div', {class: 'example'},
      el('span', {class: 'score'}, fmt(e.score)), shadedTokens(e.tokens, e.activations))))].filter(Boolean));
}

// ---------------------------------------------------------------- chat

const chat = {turns: [], steer: [], mode: 'add', positions: 'all', maxTokens: 48, temperature: 0.8, seed: 0,
  template: false, compare: true, running: null};

function steerRow(entry, rerender) {
  const latent = el('input', {type: 'number', class: 'latent', min: 0, value: entry.latent, title: 'latent'});
  const strength = el('input', {type: 'number', class: 'strength', step: 'any', value: entry.strength,
    title: 'strength'});
  const name = el('span', {class: 'name'});
  const describe = () => {
    name.textContent = '';
    if (latent.value === '') return;
    api('/api/features/' + encodeURIComponent(latent.value) + '?examples=1')
      .then(f => { name.textContent = f.label !== null ? f.label : '(not labeled)'; })
      .catch(e => { name.textContent = e.message; });
  };
  latent.addEventListener('change', () => { entry.latent = latent.value; describe(); });
  strength.addEventListener('change', () => { entry.strength = strength.value; });
  describe();
  return el('div', {class: 'row steer-row'}, 'feature', latent, 'strength', strength,
    el('button', {class: 'secondary', title: 'remove', onclick: () => {
      chat.steer.splice(chat.steer.indexOf(entry), 1); rerender(); }}, '×'), name);
}

function chatPage(params) {
  if (params.get('steer') !== null) {
    const l = params.get('steer');
    if (!chat.steer.some(s => String(s.latent) === l)) chat.steer.push({latent: l, strength: 8});
  }
  const rows = el('div', {id: 'steer-rows'});
  const renderRows = () => rows.replaceChildren(...chat.steer.map(s => steerRow(s, renderRows)));
  renderRows();
  const select = (id, key, options) => {
    const s = el('select', {id}, options.map(o => el('option', {value: o, selected: chat[key] === o}, o)));
    s.addEventListener('change', () => { chat[key] = s.value; });
    return s;
  };
  const number = (id, key, attrs) => {
    const i = el('input', Object.assign({type: 'number', id, value: chat[key]}, attrs));
    i.addEventListener('change', () => { chat[key] = i.value; });
    return i;
  };
  const check = (id, key, text) => {
    const c = el('input', {type: 'checkbox', id, checked: chat[key]});
    c.addEventListener('change', () => { chat[key] = c.checked; });
    return el('label', {}, c, ' ' + text);
  };
  const controls = el('div', {class: 'controls'},
    rows,
    el('div', {class: 'row'},
      el('button', {class: 'secondary', id: 'add-feature', onclick: () => {
        chat.steer.push({latent: '', strength: 8}); renderRows(); }}, '+ feature'),
      'mode', select('steer-mode', 'mode', ['add', 'bias', 'clamp']),
      'positions', select('steer-positions', 'positions', ['all', 'prompt', 'generated'])),
    el('div', {class: 'row'},
      'max tokens', number('max-tokens', 'maxTokens', {min: 1, max: 1024}),
      'temperature', number('temperature', 'temperature', {min: 0, max: 10, step: 0.1}),
      'seed', number('seed', 'seed', {step: 1}),
      check('use-template', 'template', 'chat template'),
      check('compare', 'compare', 'unsteered reply beside')));
  const steeredCol = el('div', {class: 'column steered', id: 'steered'}, el('h3', {}, 'steered'));
  const plainCol = el('div', {class: 'column plain', id: 'plain'}, el('h3', {}, 'unsteered'));
  const input = el('textarea', {id: 'chat-input', placeholder: 'Write a message (or a text to continue)…'});
  const send = el('button', {id: 'send'}, 'Send');
  const stop = el('button', {id: 'stop', class: 'secondary', disabled: true}, 'Stop');
  const clear = el('button', {id: 'clear', class: 'secondary'}, 'Clear');
  const stat = el('div', {class: 'stat-line', id: 'chat-stats'});
  const turnBox = (side, role, text) => el('div', {class: 'turn ' + role},
    el('span', {class: 'who'}, role === 'user' ? 'you' : side === 'steered' ? 'model, steered' : 'model'), text);
  for (const t of chat.turns) {
    steeredCol.append(turnBox('steered', 'user', t.user));
    plainCol.append(turnBox('plain', 'user', t.user));
    if (t.steered !== undefined) steeredCol.append(turnBox('steered', 'assistant', t.steered));
    if (t.plain !== undefined) plainCol.append(turnBox('plain', 'assistant', t.plain));
  }
  clear.addEventListener('click', () => { chat.turns = []; route(); });
  stop.addEventListener('click', () => { if (chat.running) chat.running.abort(); });
  send.addEventListener('click', () => sendTurn());
  input.addEventListener('keydown', e => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) sendTurn(); });
  view.append(el('h2', {}, 'Chat & steer'), controls, el('div', {class: 'columns'}, steeredCol, plainCol),
    input, el('div', {class: 'row'}, send, stop, clear), stat);

  async function sendTurn() {
    const text = input.value;
    if (!text.trim() || chat.running) return;
    notice('');
    const steer = [];
    for (const s of chat.steer) {
      if (s.latent === '' || s.latent === null) continue;
      steer.push({latent: Number(s.latent), strength: String(s.strength)});
    }
    const messages = [];
    for (const t of chat.turns) {
      messages.push({role: 'user', content: t.user});
      if (t.steered !== undefined) messages.push({role: 'assistant', content: t.steered});
    }
    messages.push({role: 'user', content: text});
    const turn = {user: text};
    const boxes = {steered: turnBox('steered', 'assistant', ''), plain: turnBox('plain', 'assistant', '')};
    const controller = new AbortController();
    chat.running = controller;
    send.disabled = true; stop.disabled = false; stat.textContent = '';
    const userBoxes = [turnBox('steered', 'user', text), turnBox('plain', 'user', text)];
    steeredCol.append(userBoxes[0]); plainCol.append(userBoxes[1]);
    const started = performance.now();
    try {
      const r = await fetch('/api/chat', {method: 'POST', headers: {'Content-Type': 'application/json'},
        signal: controller.signal, body: JSON.stringify({messages, steer, mode: chat.mode,
          positions: chat.positions, max_tokens: Number(chat.maxTokens), temperature: Number(chat.temperature),
          seed: Number(chat.seed), template: chat.template, compare: chat.compare})});
      if (!r.ok) {
        let message = r.status + ' ' + r.statusText;
        try { message = (await r.json()).error || message; } catch (e) { /* keep the status */ }
        throw new Error(message);
      }
      input.value = '';
      chat.turns.push(turn);
      for (const side of ['steered', 'plain']) {
        if (side === 'plain' && !chat.compare) continue;
        boxes[side].classList.add('streaming');
        (side === 'steered' ? steeredCol : plainCol).append(boxes[side]);
      }
      let firstMs = null;
      await readEvents(r, (event, data) => {
        if (event === 'token') {
          if (firstMs === null) firstMs = performance.now() - started;
          boxes[data.side].append(document.createTextNode(data.text));
        } else if (event === 'done') {
          boxes[data.side].classList.remove('streaming');
          turn[data.side] = data.text;
          boxes[data.side].dataset.stop = data.stopReason;
        } else if (event === 'error') {
          notice(data.error);
        } else if (event === 'end') {
          stat.textContent = 'first token after ' + Math.round(firstMs === null ? data.firstTokenMs : firstMs)
            + ' ms · ' + fmt(data.tokensPerSecond, 1) + ' tokens/s';
          stat.dataset.firstTokenMs = String(Math.round(firstMs === null ? data.firstTokenMs : firstMs));
        }
      });
    } catch (e) {
      if (e.name === 'AbortError') {
        stat.textContent = 'stopped';
      } else {
        notice(e.message);
        if (!chat.turns.includes(turn)) userBoxes.forEach(b => b.remove());
      }
    } finally {
      for (const b of Object.values(boxes)) b.classList.remove('streaming');
      if (turn.steered === undefined && chat.turns.includes(turn)) turn.steered = boxes.steered.textContent;
      chat.running = null;
      send.disabled = false; stop.disabled = true;
    }
  }
}

/** Reads a text/event-stream response, calling onEvent(name, parsedData) for each event. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      onEvent(event, data ? JSON.parse(data) : null);
    }
  }
}

// ---------------------------------------------------------------- token view

let lastInspected = 'The President said that the Congress of the United States';

function inspectPage() {
  const input = el('textarea', {id: 'inspect-text'}, lastInspected);
  const run = el('button', {id: 'inspect-run'}, 'Run through model + SAE');
  const strip = el('div', {class: 'tokens', id: 'inspect-tokens'});
  const table = el('tbody', {id: 'inspect-rows'});
  view.append(el('h2', {}, 'Which latents fire on each token'), input, el('div', {class: 'row'}, run,
    el('span', {class: 'muted'}, 'Click a token to find its row; click a latent to open it.')), strip,
    el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'token'),
      el('th', {}, 'strongest latents (activation, label)'))), table));
  async function go() {
    lastInspected = input.value;
    run.disabled = true;
    try {
      const r = await api('/api/inspect', {method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({text: input.value, top: 5})});
      strip.replaceChildren(); table.replaceChildren();
      const peak = Math.max(0, ...r.tokens.map(t => t.latents.length ? t.latents[0].activation : 0));
      r.tokens.forEach((t, i) => {
        const tr = el('tr', {id: 'tok-row-' + i},
          el('td', {class: 'num'}, String(i)), el('td', {}, el('span', {class: 'tok'}, t.text)),
          el('td', {}, t.latents.map(l => el('a', {class: 'chip', href: '#/feature/' + l.latent},
            l.latent + ' · ' + fmt(l.activation, 2) + (l.label ? ' · ' + l.label : '')))));
        table.append(tr);
        const top = t.latents.length ? t.latents[0].activation : 0;
        const chip = el('span', {class: 'tok', title: t.latents.map(l => l.latent + ': ' + fmt(l.activation, 2))
          .join(', ')}, t.text);
        if (peak > 0 && top > 0) chip.style.backgroundColor = 'rgba(36, 87, 197, ' + (0.1 + 0.5 * top / peak)
          .toFixed(3) + ')';
        chip.addEventListener('click', () => {
          for (const s of strip.children) s.classList.remove('selected');
          chip.classList.add('selected');
          tr.scrollIntoView({block: 'center'});
        });
        strip.append(chip);
      });
    } catch (e) {
      notice(e.message);
    } finally {
      run.disabled = false;
    }
  }
  run.addEventListener('click', go);
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    info = await api('/api/info');
    document.getElementById('model-info').textContent = info.model + ' · ' + info.hookPoint + ' · '
      + info.architecture + ' SAE, ' + info.latents + ' latents' + (info.labeled ? '' : ' · no labels yet');
    if (info.report) {
      const a = document.getElementById('report-link');
      a.href = info.report;
      a.hidden = false;
    }
  } catch (e) {
    notice('cannot reach the sae4j server: ' + e.message);
  }
  window.addEventListener('hashchange', route);
  route();
}

start();
