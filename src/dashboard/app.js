// Reelflow automation calendar: plain JS, no build step. Everything comes from
// the authenticated API (GET /api/dashboard every 1.5 s); the token lives in
// sessionStorage so it dies with the tab. All text goes in through textContent
// (job titles and provider errors are untrusted).
'use strict';
(() => {
  const TOKEN_KEY = 'reelflow.token';
  // How often the page refreshes itself; README and docs quote this figure, keep them in step.
  const POLL_MS = 1500;
  const TOAST_MS = 4000;
  const CONFIRM_MS = 4000;
  const PRIORITIES = ['P0', 'P1', 'P2', 'P3'];
  const $ = (id) => document.getElementById(id);

  let me = null;
  let pollTimer = null;
  let toastTimer = null;

  // --- tiny DOM helper -------------------------------------------------------------------
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  // --- formatting ----------------------------------------------------------------------
  function duration(seconds) {
    if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '–';
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    const hrs = Math.floor(s / 3600);
    return hrs < 48 ? `${hrs}h ${Math.floor((s % 3600) / 60)}m` : `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
  }
  function relative(iso) {
    if (!iso) return '–';
    const diff = (Date.parse(iso) - Date.now()) / 1000;
    return diff >= 0 ? `in ${duration(diff)}` : `${duration(-diff)} ago`;
  }
  const time = (iso) => (iso ? h('time', { datetime: iso, title: new Date(iso).toLocaleString(), text: relative(iso) }) : '–');
  const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  // What a waiting job's ETA waits for (src/gate/eta.ts's reasons, in words).
  function waitText(w) {
    switch (w.waitingFor) {
      case 'now':
        return 'nothing in the way';
      case 'slot':
        return 'a free slot';
      case 'spacing':
        return 'start spacing';
      case 'quota':
        return `quota ${w.waitingForQuota}`;
      case 'budget':
        return `budget ${w.waitingForQuota}`;
      case 'parked':
        return `quota ${w.waitingForQuota} (parked)`;
      case 'schedule':
        return 'its schedule';
      default:
        return '';
    }
  }
  // An ETA the page has already passed (it was read up to a poll ago) is "now", not "2s ago".
  const due = (iso) => Date.parse(iso) <= Date.now() + 1000;
  // Quotas, budgets and parking are worth an operator's eye; a slot or spacing is the line moving.
  const held = (reason) => reason === 'quota' || reason === 'budget' || reason === 'parked';
  // "~14:05 · in 4m 0s" and what it waits for; "never" when its cost exceeds a quota's whole limit.
  function etaCell(w) {
    if (!w.waitingFor) return [h('span', { class: 'muted', text: 'after earlier steps' })];
    if (!w.eta) return [h('span', { class: 'bad', text: `never: costs more than ${waitText(w)} allows` })];
    const why = w.waitingFor === 'now' ? 'next to start' : `waiting for ${waitText(w)}`;
    // The gate never starts a job past its deadline: say so while there is time to act (raise the quota, reprioritise).
    const late = w.deadline && Date.parse(w.eta) > Date.parse(w.deadline);
    return [
      ...(due(w.eta)
        ? [h('span', { class: 'eta', text: 'now' })]
        : [h('span', { class: 'eta', text: `~${clock(w.eta)} · ` }), time(w.eta)]),
      h('div', { class: held(w.waitingFor) ? 'waits held' : 'waits', text: why }),
      ...(late ? [h('div', { class: 'bad', 'data-testid': 'eta-late', text: 'after its deadline: expires unstarted' })] : []),
    ];
  }
  const amount = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);
  // A provider spending a credits budget (VEO3) has today's spend in its budget's bar, counted as KIE bills it (at each
  // render's start, over the budget's own day): its cost row, the finished jobs since UTC midnight, said another
  // number for "today" two lines above it (360 beside 480 / 60000 in the walk). Other providers keep the row.
  const spendsCredits = (p) => (p.quotas || []).some((q) => q.unit === 'credits');
  const shortId = (id) => (id ? id.slice(0, 8) : '');
  // The API owns the Web UI's URL shape (src/shared/temporal-ui.ts); the page only fills in the id.
  const workflowUrl = (workflowId) => me.workflowUrlTemplate.replace('{workflowId}', encodeURIComponent(workflowId));
  const workflowLink = (workflowId) =>
    h('a', { href: workflowUrl(workflowId), target: '_blank', rel: 'noopener', class: 'temporal-link', text: 'Temporal ↗' });

  // --- API ---------------------------------------------------------------------------------
  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ''}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let payload;
    try {
      payload = await res.json();
    } catch {
      payload = null;
    }
    if (res.status === 401 && me) {
      signOut('Your token is no longer valid; sign in again.');
    }
    if (!res.ok || !payload || payload.ok === false) {
      const err = new Error((payload && payload.error && payload.error.message) || `HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return payload.data;
  }

  function toast(message, bad) {
    const el = $('toast');
    el.textContent = message;
    el.className = bad ? 'toast bad' : 'toast';
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (el.hidden = true), TOAST_MS);
  }

  // --- session -------------------------------------------------------------------------------
  async function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    try {
      me = await api('GET', '/api/whoami');
    } catch (err) {
      sessionStorage.removeItem(TOKEN_KEY);
      me = null;
      throw err;
    }
    $('login').hidden = true;
    $('app').hidden = false;
    $('who').textContent = `${me.name} · ${me.role}`;
    document.body.classList.toggle('read-only', me.role !== 'operator');
    await refresh();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    clearTimeout(pollTimer);
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('queue').tBodies[0].replaceChildren();
  }

  // --- polling -----------------------------------------------------------------------------
  async function refresh() {
    clearTimeout(pollTimer);
    if (!me) return;
    try {
      const snapshot = await api('GET', '/api/dashboard');
      render(snapshot);
      void refreshCompetitors();
      void refreshPerformance();
      $('live').className = 'live';
      $('updated').textContent = `updated ${new Date(snapshot.generatedAt).toLocaleTimeString()}`;
    } catch (err) {
      $('live').className = 'live stale';
      $('updated').textContent = `refresh failed: ${err.message}`;
    }
    if (me) pollTimer = setTimeout(refresh, POLL_MS);
  }

  function render(s) {
    renderApprovals(s.approvals || []);
    renderNames(s.unknownNames || []);
    renderAlerts(s.stuck, s.workers, s.partial || [], s.failed || [], s.refused || []);
    renderProviders(s.providers, s.workers);
    renderQueue(s.jobs);
    renderCalendar(s.calendar);
    renderFailures(s.failures);
  }

  // Cards are kept by review, so a note being typed survives the next poll.
  function renderApprovals(rows) {
    const el = $('approvals');
    const existing = new Map([...el.children].map((c) => [c.dataset.key, c]));
    const wanted = rows.map((r) => {
      // A review that replaced another (a retry's new render, a republish) gets a card of its own, never the old one's
      // (reviews asked before they had ids: told apart by where they wait and when they were asked).
      const key = `${r.id}:${r.waiting.id || `${r.waiting.workflowId || ''}:${r.waiting.stage}:${r.waiting.requestedAt}`}`;
      const card = existing.get(key) || approvalCard(r, key);
      existing.delete(key);
      card.querySelector('.asked').replaceChildren(...asked(r));
      return card;
    });
    for (const card of existing.values()) card.remove();
    wanted.forEach((card, i) => {
      if (el.children[i] !== card) el.insertBefore(card, el.children[i] || null);
    });
    $('approvals-section').hidden = rows.length === 0;
    $('approvals-count').textContent = `(${rows.length})`;
  }

  /** When the review was asked and how often its editors were reminded of it (src/workers/approval-watch.ts). */
  function asked(r) {
    const reminded = r.reminded ? ` · reminded ${r.reminded === 1 ? 'once' : `${r.reminded} times`}` : '';
    return [' · asked ', time(r.waiting.requestedAt), reminded];
  }

  function approvalCard(r, key) {
    const w = r.waiting;
    const render = w.stage === 'render';
    // A republish of a published idea waits in its own workflow (w.workflowId), past the idea's deadline.
    const republish = Boolean(w.workflowId);
    const waitingIn = w.workflowId || r.workflowId;
    const note = h('input', { type: 'text', maxlength: '2000', placeholder: 'Note (optional)', 'aria-label': 'Note', class: 'note' });
    const decide = async (decision, button) => {
      for (const b of card.querySelectorAll('button')) b.disabled = true;
      try {
        // The review this card shows: if another replaced it meanwhile, the decision is refused, not applied to that one.
        const body = { stage: w.stage, ...(w.id ? { reviewId: w.id } : {}), ...(note.value.trim() ? { note: note.value.trim() } : {}) };
        await api('POST', `/api/recommendations/${encodeURIComponent(r.id)}/${decision}`, body);
        toast(`${decision === 'approve' ? 'Approved' : 'Rejected'}: ${r.title}`);
        card.remove();
      } catch (err) {
        toast(`${decision === 'approve' ? 'Approve' : 'Reject'} failed: ${err.message}`, true);
        for (const b of card.querySelectorAll('button')) b.disabled = false;
        button.focus();
      }
      refresh();
    };
    const approve = h('button', { type: 'button', 'data-testid': 'approve-button', text: render ? 'Approve render' : 'Approve post' });
    const reject = h('button', { type: 'button', class: 'danger', 'data-testid': 'reject-button', text: 'Reject' });
    approve.addEventListener('click', () => decide('approve', approve));
    reject.addEventListener('click', () => decide('reject', reject));
    const card = h(
      'article',
      {
        class: 'card approval',
        'data-key': key,
        'data-testid': 'approval-card',
        'data-recommendation-id': r.id,
        'data-review-id': w.id || '',
      },
      h(
        'h3',
        {},
        h('span', { class: `prio ${r.priority}`, text: r.priority }),
        ' ',
        h('span', { text: r.title }),
        h('span', { class: 'muted', text: ` · ${r.type} · from ${r.source}` }),
      ),
      h(
        'p',
        { class: 'muted' },
        render
          ? `Before the paid render, for ${(w.platforms || []).join(', ')}`
          : `${republish ? 'Posted again (a republish): before posting on' : 'Before posting on'} ${(w.platforms || []).join(', ')}`,
        r.deadline && !republish ? ' · expires unpaid ' : '',
        r.deadline && !republish ? time(r.deadline) : '',
        h('span', { class: 'asked', 'data-testid': 'approval-asked' }),
        waitingIn ? ' · ' : '',
        waitingIn ? workflowLink(waitingIn) : '',
      ),
      w.videoUrl ? h('video', { controls: true, preload: 'metadata', src: w.videoUrl, class: 'review-video' }) : null,
      r.explanation
        ? h(
            'details',
            { class: 'why', open: true },
            h('summary', { text: `Why: ${r.explanation.rule}` }),
            h('ul', {}, ...(r.explanation.because || []).map((line) => h('li', { text: line }))),
          )
        : null,
      h('div', { class: 'caption', text: w.caption || '' }),
      w.videoPrompt ? h('details', {}, h('summary', { text: 'Video prompt' }), h('div', { class: 'prompt', text: w.videoPrompt })) : null,
      h('div', { class: 'actions' }, note, approve, reject),
    );
    return card;
  }

  // Rows are kept by mention, so a player id being typed survives the next poll.
  function renderNames(rows) {
    const body = $('names').tBodies[0];
    const existing = new Map([...body.rows].map((tr) => [tr.dataset.mention, tr]));
    const wanted = rows.map((m) => {
      const tr = existing.get(m.mention) || nameRow(m);
      existing.delete(m.mention);
      const cells = tr.cells;
      cells[1].textContent = m.reason;
      cells[2].textContent = String(m.videos);
      cells[3].textContent = m.candidates.join(', ') || '–';
      cells[4].replaceChildren(h('a', { href: m.example, target: '_blank', rel: 'noopener', text: 'listen ↗' }));
      return tr;
    });
    for (const tr of existing.values()) tr.remove();
    wanted.forEach((tr, i) => {
      if (body.rows[i] !== tr) body.insertBefore(tr, body.rows[i] || null);
    });
    $('names-section').hidden = rows.length === 0;
    $('names-count').textContent = `(${rows.length})`;
  }

  function nameRow(m) {
    const tr = h('tr', { 'data-mention': m.mention, 'data-testid': 'name-row' });
    tr.append(h('td', { class: 'title', text: m.mention }), h('td'), h('td'), h('td'), h('td'));
    const input = h('input', {
      type: 'text',
      placeholder: m.candidates.length ? `e.g. ${m.candidates[0]}` : 'player id or name',
      'aria-label': `Player for ${m.mention}`,
    });
    const teach = h('button', { type: 'button', 'data-testid': 'teach-button', text: 'Teach' });
    teach.addEventListener('click', async () => {
      // Never a candidate by default: an ambiguous name is settled by the editor's choice, not the first in a list.
      const player = input.value.trim();
      if (!player) return toast('Type the player id or name first', true);
      teach.disabled = true;
      try {
        const taught = await api('POST', '/api/names/aliases', { mention: m.mention, player });
        toast(`"${taught.mention}" is ${taught.playerName}; ${taught.videosUpdated} video(s) resolved again`);
        tr.remove();
      } catch (err) {
        toast(`Teach failed: ${err.message}`, true);
        teach.disabled = false;
      }
      refresh();
    });
    tr.append(h('td', { class: 'actions' }, h('div', { class: 'actions' }, input, teach)));
    return tr;
  }

  function renderAlerts(stuck, workers, partial, failed, refused) {
    // An operator typing a KIE task id into a failed idea's alert keeps it through the next poll's redraw.
    if (document.activeElement && document.activeElement.matches('input.retry')) return;
    $('alerts').replaceChildren(
      ...workerAlerts(workers),
      // A webhook refusing our messages loses every alert after it: first, since nothing else will say so.
      ...refused.map((r) =>
        h(
          'div',
          { class: 'alert', 'data-testid': 'refused-alert', 'data-channel': r.channel },
          `🚨 ${r.channel} refused ${r.count} message${r.count === 1 ? '' : 's'}, the last at ${new Date(r.lastAt).toLocaleString()} ` +
            `(${r.reason || 'no reason given'}): the team was not told. Check its webhook URL (or what it refused); ` +
            `\`temporal workflow reset --type FirstWorkflowTask\` of a failed notify-… workflow sends it again. ` +
            `Last: ${(r.message || '').split('\n')[0]}`,
        ),
      ),
      ...failed.map((r) =>
        h(
          'div',
          { class: 'alert', 'data-testid': 'failed-alert', 'data-recommendation-id': r.id },
          `${r.status === 'expired' ? '⌛ Expired' : '⚠ Failed'}: ${r.priority} ${r.title} · ${r.error || 'no error recorded'} `,
          r.workflowId ? workflowLink(r.workflowId) : '',
          ' ',
          // A post that died inside its request is settled first: a retry would post it again.
          ...(r.unknownPosts.length && !r.needsTask ? r.unknownPosts.flatMap((p) => unknownPostControls(r, p)) : retryControls(r)),
        ),
      ),
      ...partial.map((r) =>
        h(
          'div',
          { class: 'alert', 'data-testid': 'partial-alert', 'data-recommendation-id': r.id },
          `⚠ Partly published: ${r.priority} ${r.title} · ${r.error || 'some platforms failed'} `,
          r.workflowId ? workflowLink(r.workflowId) : '',
          ' ',
          // Retrying every failed platform would post again where a post's outcome is unknown: one platform at a time then.
          ...(r.unknownPosts.length ? r.unknownPosts.flatMap((p) => unknownPostControls(r, p)) : [republishButton(r)]),
        ),
      ),
      ...stuck.map((j) =>
        h(
          'div',
          { class: 'alert', 'data-testid': 'stuck-alert', 'data-job-id': j.id },
          `⚠ Stuck: ${j.title || j.jobType} · ${j.step} on ${j.provider}, running ${duration(j.runningSeconds)} (over 2× its estimate) `,
          workflowLink(j.workflowId),
        ),
      ),
    );
  }

  // Posts the archived video again, no new render (POST /api/recommendations/:id/republish): where its posts
  // failed, or (platform given: a video posted there) a second public copy on that platform, on a second click.
  function republishButton(r, platform) {
    const text = platform ? `Post again on ${platform}` : 'Retry failed platforms';
    const button = h('button', { type: 'button', class: 'republish', 'data-testid': 'republish-button', text });
    button.addEventListener('click', async () => {
      if (platform && !confirmed(button, `Confirm: a second ${platform} post`, text)) return;
      button.disabled = true;
      try {
        // The API refuses a second copy without `again`: one click never posts twice.
        const body = platform ? { platform, again: true } : {};
        const started = await api('POST', `/api/recommendations/${encodeURIComponent(r.id)}/republish`, body);
        toast(`Republishing ${r.title} on ${started.platforms.join(', ')}`);
      } catch (err) {
        toast(`Republish failed: ${err.message}`, true);
        button.disabled = false;
      }
    });
    return button;
  }

  // A post whose request died unanswered may be live on its platform: the operator looks there and either types the
  // post's id (recorded, not posted again: POST …/republish {platform, post}) or says it is not there (posted again).
  function unknownPostControls(r, platform) {
    const input = h('input', {
      type: 'text',
      class: 'retry',
      placeholder: `${platform} post id`,
      'aria-label': `${platform} post of ${r.title}`,
      'data-platform': platform,
    });
    const send = async (button, body, done) => {
      button.disabled = true;
      try {
        await api('POST', `/api/recommendations/${encodeURIComponent(r.id)}/republish`, body);
        toast(done);
      } catch (err) {
        toast(`${body.post ? 'Not recorded' : 'Not posted'}: ${err.message}`, true);
        button.disabled = false;
      }
    };
    const record = h('button', { type: 'button', class: 'retry', 'data-testid': 'record-post-button', text: `Record ${platform} post` });
    record.addEventListener('click', () => {
      const post = input.value.trim();
      if (!post) return toast(`Type the id of the post found on ${platform} first`, true);
      return send(record, { platform, post }, `Recording the ${platform} post ${post} of ${r.title}`);
    });
    const again = h('button', {
      type: 'button',
      class: 'retry',
      'data-testid': 'post-again-button',
      text: `Not on ${platform}: post again`,
    });
    again.addEventListener('click', () => send(again, { platform }, `Posting ${r.title} again on ${platform}`));
    return [input, record, again, ' '];
  }

  // Makes a failed or expired idea again (POST /api/recommendations/:id/retry): what was done is kept, nothing paid twice. A render
  // that died inside its paid submit needs the operator's word on what KIE made: the task found on KIE's dashboard
  // (adopted, not paid again), or nothing (a new, paid render).
  function retryControls(r) {
    const send = async (button, body, what) => {
      button.disabled = true;
      try {
        const started = await api('POST', `/api/recommendations/${encodeURIComponent(r.id)}/retry`, body);
        const paid = started.steps.filter((s) => s.action === 'resubmits' || (s.action === 'runs' && s.provider === 'veo3')).length;
        // A task whose KIE record says nothing of what it was made from was taken on the operator's word: say so.
        const unchecked = started.steps.some((s) => s.matchedBy === 'unchecked')
          ? " (KIE's record did not say what the task was made from)"
          : '';
        toast(`Retrying ${r.title}${what}${unchecked}: ${paid ? `${paid} new paid render(s)` : 'no new render paid for'}`);
      } catch (err) {
        toast(`Retry failed: ${err.message}`, true);
        button.disabled = false;
      }
    };
    const button = (text, testid, onClick) => {
      const b = h('button', { type: 'button', class: 'retry', 'data-testid': testid, text });
      b.addEventListener('click', () => onClick(b));
      return b;
    };
    if (!r.needsTask) return [button('Retry', 'retry-button', (b) => send(b, {}, ''))];
    const input = h('input', { type: 'text', class: 'retry', placeholder: 'KIE task id', 'aria-label': `KIE task for ${r.title}` });
    return [
      input,
      button('Adopt task', 'adopt-button', (b) => {
        const task = input.value.trim();
        if (!task) return toast('Type the task id found on the KIE dashboard first', true);
        return send(b, { task }, ` with KIE task ${task}`);
      }),
      button('Nothing on KIE: render again (paid)', 'resubmit-button', (b) => send(b, { resubmit: true }, '')),
    ];
  }

  // workers: per task queue from Temporal; null when Temporal did not answer, undefined when this server cannot ask.
  function workerAlerts(workers) {
    const alert = (text, queue) =>
      h('div', { class: 'alert', 'data-testid': 'workers-alert', ...(queue ? { 'data-queue': queue } : {}) }, text);
    if (workers === null) return [alert('⚠ The Temporal server did not answer: live workers unknown')];
    const unserved = (workers || []).filter((w) => w.workers === 0);
    if (unserved.length > 1 && unserved.length === workers.length)
      return [alert('⚠ No worker is running: nothing moves. Start them: npm run worker')];
    return unserved.map((w) =>
      alert(
        `⚠ No worker serves ${w.taskQueue}: its jobs wait and nothing runs ` +
          `(last poll ${w.lastSeenAt ? new Date(w.lastSeenAt).toLocaleTimeString() : 'never'}). ` +
          `Start one: npm run worker -- --queue ${w.queue}`,
        w.taskQueue,
      ),
    );
  }

  function renderProviders(providers, workers) {
    const workersOf = (provider) => (workers || []).find((w) => w.queue === provider);
    $('providers').replaceChildren(
      ...providers.map((p) => {
        const served = workersOf(p.provider);
        const full = p.inUse >= p.maxConcurrent;
        const meter = h('div', { class: full ? 'meter full' : 'meter' }, h('div'));
        meter.firstChild.style.width = `${Math.min(100, (p.inUse / Math.max(1, p.maxConcurrent)) * 100)}%`;
        const row = (label, value) => [h('dt', { text: label }), h('dd', { text: String(value) })];
        return h(
          'div',
          { class: 'card provider', 'data-provider': p.provider },
          h('h3', {}, h('span', { text: p.provider }), h('span', { class: 'in-use', text: `${p.inUse} / ${p.maxConcurrent}` })),
          meter,
          h(
            'dl',
            {},
            row('In use / cap', `${p.inUse} / ${p.maxConcurrent}`),
            row('In line', p.waiting),
            row('Planned', p.planned),
            row('Queued · running', `${p.queued} · ${p.processing}`),
            row('Spacing', `${(p.minStartIntervalMs / 1000).toFixed(1)} s`),
            row('Success (24 h)', pct(p.successRate24h)),
            row('Avg duration', duration(p.avgRunSeconds24h)),
            row('Avg wait', duration(p.avgWaitSeconds24h)),
            ...(spendsCredits(p) ? [] : row('Cost today', amount(Number(p.costToday ?? 0)))),
            row('Stuck', p.stuck),
            ...(served ? row('Workers', served.workers) : []),
          ),
          // A cancelled VEO3 render still runs (and is paid): its slot frees when the render ends. Below the figures,
          // as the next start is: in the card's value column it wrapped onto five lines. A job failed on a submit whose
          // answer never came holds its slot too; until a callback names the task, its job is named.
          ...(p.held || []).map((s) =>
            h('div', {
              class: 'next-start',
              'data-testid': 'held',
              text:
                `Slot held: ${s.status === 'failed' ? "a failed job's render" : 'a cancelled render'} finishing ` +
                `(${s.providerTaskId ? `task ${s.providerTaskId}` : `job ${s.jobId}`})`,
            }),
          ),
          p.nextStart
            ? h(
                'div',
                { class: held(p.nextStart.waitingFor) ? 'next-start held' : 'next-start', 'data-testid': 'next-start' },
                nextStartText(p.nextStart),
              )
            : null,
          ...(p.quotas || []).map(quotaBlock),
        );
      }),
    );
  }

  // The waiting job expected to start first on this provider.
  function nextStartText(n) {
    const what = waitText({ waitingFor: n.waitingFor, waitingForQuota: n.quota });
    if (!n.eta) return `Next start: never (${what})`;
    const when = due(n.eta) ? 'now' : `~${clock(n.eta)} (${relative(n.eta)})`;
    return `Next start ${when}${n.waitingFor === 'now' ? '' : `, waiting for ${what}`}`;
  }

  // One quota or budget on its provider's card: a bar of used/limit, when units come back, and a badge while parked.
  function quotaBlock(q) {
    const share = q.limit > 0 ? q.used / q.limit : 1;
    const meter = h('div', { class: share >= 1 ? 'meter full' : share >= 0.8 ? 'meter high' : 'meter' }, h('div'));
    meter.firstChild.style.width = `${Math.min(100, share * 100)}%`;
    const reported =
      q.reportedAt && q.reportedRemaining !== null
        ? `provider says ${amount(q.reportedRemaining)}${q.reportedLimit !== null ? ` of ${amount(q.reportedLimit)}` : ''} left`
        : null;
    return h(
      'div',
      { class: 'quota-block', 'data-testid': 'quota', 'data-quota': q.name, title: q.reason },
      h('div', { class: 'quota-name', text: `${q.unit === 'credits' ? 'Budget' : 'Quota'} ${q.name}` }),
      meter,
      h('div', { class: 'quota-used', text: `${amount(q.used)} / ${amount(q.limit)} ${q.unit}` }),
      h(
        'div',
        { class: 'muted quota-reset' },
        q.account !== 'default' ? `account ${q.account} · ` : '',
        q.resetAt ? 'resets ' : q.windowKind === 'moving' ? 'nothing spent in the window' : '',
        q.resetAt ? h('time', { datetime: q.resetAt, title: new Date(q.resetAt).toLocaleString(), text: clock(q.resetAt) }) : '',
        q.resetAt ? ` (${relative(q.resetAt)})` : '',
        reported ? ` · ${reported}` : '',
      ),
      q.parkedUntil
        ? h(
            'div',
            { class: 'badge parked', 'data-testid': 'quota-parked' },
            `parked until ${clock(q.parkedUntil)}: ${q.parkedReason || 'the provider said the quota is spent'}`,
          )
        : null,
    );
  }

  // Rows are kept by job id and patched, so an open priority menu or an armed
  // cancel button survives the next poll.
  function renderQueue(jobs) {
    const body = $('queue').tBodies[0];
    const existing = new Map([...body.rows].map((tr) => [tr.dataset.jobId, tr]));
    const wanted = [];
    for (const job of jobs) {
      let tr = existing.get(job.id);
      if (!tr) tr = newQueueRow(job);
      existing.delete(job.id);
      updateQueueRow(tr, job);
      wanted.push(tr);
    }
    for (const tr of existing.values()) tr.remove();
    const inOrder = wanted.every((tr, i) => body.rows[i] === tr);
    if (!inOrder) wanted.forEach((tr) => body.append(tr));
    $('queue-empty').hidden = jobs.length > 0;
    $('queue-count').textContent = `(${jobs.length})`;
  }

  function newQueueRow(job) {
    const tr = h('tr', { 'data-job-id': job.id, 'data-testid': 'queue-row' });
    for (let i = 0; i < 10; i += 1) tr.append(h('td'));
    const select = h(
      'select',
      { 'aria-label': 'Priority', 'data-testid': 'priority-select', onchange: () => reprioritise(job.id, select) },
      ...PRIORITIES.map((p) => h('option', { value: p, text: p })),
    );
    const cancel = h('button', {
      type: 'button',
      class: 'danger',
      'data-testid': 'cancel-button',
      text: 'Cancel',
      onclick: () => cancelJob(job.id, cancel),
    });
    tr.append(h('td', { class: 'actions' }, h('div', { class: 'actions' }, select, cancel)));
    return tr;
  }

  function updateQueueRow(tr, job) {
    const cells = tr.cells;
    const set = (i, ...content) => cells[i].replaceChildren(...content);
    tr.className = job.isStuck ? 'stuck' : '';
    tr.dataset.status = job.status;
    set(0, h('span', { class: `prio ${job.priority}`, text: job.priority }));
    cells[1].className = 'title';
    cells[1].title = `${job.title || ''} · ${job.step} · job ${job.id}${job.why ? `\nWhy: ${job.why}` : ''}`;
    // The step on a line of its own: after a long title it was cut off with it (which of a reel's renders, which post).
    set(
      1,
      h('div', { text: job.title || shortId(job.recommendationId) }),
      h('div', { class: 'muted', 'data-testid': 'step', text: job.step }),
    );
    set(2, job.provider);
    set(3, h('span', { class: `status ${job.status}`, text: job.isStuck ? 'stuck' : job.status }));
    if (job.status === 'processing') set(4, `running ${duration(job.runningSeconds)}`);
    else if (job.scheduleAfter && Date.parse(job.scheduleAfter) > Date.now()) set(4, 'scheduled ', time(job.scheduleAfter));
    // A later step not asking yet has no place: every grant passes over it (its ETA cell says after earlier steps).
    else set(4, job.inLine ? `#${job.position} in line` : h('span', { class: 'muted not-asking', text: 'not yet asking' }));
    cells[5].dataset.testid = 'eta';
    cells[5].dataset.waitingFor = job.waitingFor || '';
    if (job.status === 'processing') set(5, h('span', { class: 'muted', text: job.startedAt ? `started ${clock(job.startedAt)}` : '–' }));
    else set(5, ...etaCell(job));
    set(6, `${job.attempts}/${job.maxAttempts}`);
    set(7, time(job.createdAt));
    set(8, time(job.deadline));
    set(9, workflowLink(job.workflowId));
    const select = tr.querySelector('select');
    if (document.activeElement !== select && !select.disabled) select.value = job.priority;
  }

  /** Two clicks for what cannot be undone: the first arms the button for CONFIRM_MS and returns false, the second true. */
  function confirmed(button, confirmText, text) {
    if (button.classList.contains('confirm')) return true;
    button.classList.add('confirm');
    button.textContent = confirmText;
    setTimeout(() => {
      button.classList.remove('confirm');
      button.textContent = text;
    }, CONFIRM_MS);
    return false;
  }

  async function cancelJob(jobId, button) {
    if (!confirmed(button, 'Confirm cancel', 'Cancel')) return;
    button.disabled = true;
    try {
      const result = await api('POST', `/api/jobs/${encodeURIComponent(jobId)}/cancel`, {
        reason: `cancelled from the dashboard by ${me.name}`,
      });
      toast(`Cancellation requested for recommendation ${shortId(result.recommendationId)}`);
    } catch (err) {
      toast(`Cancel failed: ${err.message}`, true);
      button.disabled = false;
    }
    refresh();
  }

  async function reprioritise(jobId, select) {
    select.disabled = true;
    try {
      const state = await api('POST', `/api/jobs/${encodeURIComponent(jobId)}/priority`, { priority: select.value });
      toast(`Now ${state.priority}`);
    } catch (err) {
      toast(`Reprioritise failed: ${err.message}`, true);
    }
    select.disabled = false;
    select.blur();
    refresh();
  }

  // The calendar's span: the shortest that holds every bar's end, so what runs in the next minutes is not a sliver at
  // the left of a day (the demo's whole line fits in five minutes; a week of P3 fills the day).
  const CALENDAR_SPANS = [
    { ms: 15 * 60_000, tickMs: 3 * 60_000, title: 'Next 15 minutes' },
    { ms: 3_600_000, tickMs: 10 * 60_000, title: 'Next hour' },
    { ms: 6 * 3_600_000, tickMs: 3_600_000, title: 'Next 6 hours' },
    { ms: 24 * 3_600_000, tickMs: 3 * 3_600_000, title: 'Next 24 hours' },
  ];

  function renderCalendar(rows) {
    const el = $('calendar');
    const start = Date.now();
    const shown = rows.slice(0, 60);
    // A row without a bar (the API's hasBar) is there for its deadline, which the span then holds.
    const lastEnd = Math.max(start, ...shown.map((c) => Date.parse(c.hasBar ? c.estimatedEndAt : c.deadline)).filter(Number.isFinite));
    // Nothing to draw: the day it looked at (the walk's empty calendar read 'Next 15 minutes' over 'Nothing planned for the
    // next 24 hours').
    const fits = shown.length ? CALENDAR_SPANS.find((s) => lastEnd - start <= s.ms) : undefined;
    const { ms: span, tickMs, title } = fits ?? CALENDAR_SPANS.at(-1);
    $('calendar-title').textContent = title;
    const x = (iso) => Math.min(100, Math.max(0, ((Date.parse(iso) - start) / span) * 100));
    const children = [];
    for (let at = 0; at < span; at += tickMs) {
      const tick = h('div', {
        class: 'tick',
        text: at === 0 ? 'now' : new Date(start + at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
      });
      tick.style.left = `calc(170px + (100% - 180px) * ${at / span})`;
      children.push(tick);
    }
    for (const c of shown) {
      // A waiting job sits at its ETA (the API replays the gate forward), drawn hollow until it starts.
      const waiting = c.status === 'queued' && c.waitingFor;
      // Its cost exceeds a quota's whole limit: no bar, only its deadline and why.
      const never = waiting && !c.eta;
      const bar = h('div', {
        class: `bar ${c.priority}${waiting ? ' waiting' : ''}`,
        'data-testid': 'calendar-bar',
        'data-planned-at': c.plannedAt,
        title:
          `${c.title || ''} · ${c.jobType} · ${c.provider} · ${waiting ? 'expected ' : ''}${new Date(c.plannedAt).toLocaleString()}` +
          (waiting && c.waitingFor !== 'now' ? ` · waiting for ${waitText(c)}` : ''),
      });
      bar.style.left = `${x(c.plannedAt)}%`;
      bar.style.width = `${Math.max(0.3, x(c.estimatedEndAt) - x(c.plannedAt))}%`;
      const row = h(
        'div',
        { class: 'row', 'data-testid': 'calendar-row', 'data-job-id': c.id },
        // What runs where first: after a title, the 155 px label cut it off. The whole of it on hover.
        h('span', {
          class: 'label',
          text: `${c.priority} ${c.provider} · ${c.title || shortId(c.recommendationId)}`,
          title: `${c.priority} ${c.title || shortId(c.recommendationId)} · ${c.jobType} on ${c.provider}`,
        }),
        c.hasBar
          ? bar
          : h('span', {
              class: 'bar-note',
              text: never ? `never as configured: costs more than ${waitText(c)} allows` : 'after earlier steps',
            }),
      );
      if (waiting && !never && c.waitingForQuota) {
        const note = h('span', { class: 'bar-note', text: waitText(c) });
        // Right of the bar, or left of it near the end of the day.
        if (x(c.estimatedEndAt) < 75) note.style.left = `${x(c.estimatedEndAt)}%`;
        else note.style.right = `${100 - x(c.plannedAt)}%`;
        row.append(note);
      }
      if (c.deadline && Date.parse(c.deadline) - start <= span) {
        const mark = h('div', { class: 'deadline', title: `deadline ${new Date(c.deadline).toLocaleString()}` });
        mark.style.left = `${x(c.deadline)}%`;
        row.append(mark);
      }
      children.push(row);
    }
    if (rows.length === 0) children.push(h('p', { class: 'muted', text: 'Nothing planned for the next 24 hours.' }));
    el.replaceChildren(...children);
  }

  // Channels change at the competitors schedule's pace (15 min): read them every 10 s, not on every refresh.
  const COMPETITORS_MS = 10000;
  let competitorsReadAt = 0;
  async function refreshCompetitors() {
    if (Date.now() - competitorsReadAt < COMPETITORS_MS) return;
    competitorsReadAt = Date.now();
    try {
      renderCompetitors(await api('GET', '/api/competitors'));
    } catch (err) {
      $('competitors-count').textContent = `(unavailable: ${err.message})`;
    }
  }
  function renderCompetitors(channels) {
    const failing = channels.filter((c) => c.lastError).length;
    $('competitors-count').textContent = `(${channels.length} watched${failing ? `, ${failing} failing` : ''})`;
    $('competitors-empty').hidden = channels.length > 0;
    $('competitors')
      .querySelector('tbody')
      .replaceChildren(
        ...channels.map((c) =>
          h(
            'tr',
            { class: c.lastError ? 'stuck' : null, 'data-testid': 'competitor' },
            h('td', { class: 'title', title: c.externalId, text: `${c.displayName}${c.active ? '' : ' (paused)'}` }),
            h('td', { text: c.platform }),
            h('td', {}, time(c.lastCheckedAt)),
            h('td', { text: String(c.videosFound) }),
            h('td', {}, time(c.newestVideoAt)),
            h('td', { class: 'err', title: c.lastErrorAt || '', text: c.lastError || '' }),
          ),
        ),
      );
  }

  // Readings come at +1 h, +6 h, +24 h…: once a minute is plenty.
  const PERFORMANCE_MS = 60000;
  let performanceReadAt = 0;
  async function refreshPerformance() {
    if (Date.now() - performanceReadAt < PERFORMANCE_MS) return;
    performanceReadAt = Date.now();
    try {
      renderPerformance(await api('GET', '/api/performance'));
    } catch (err) {
      $('performance-count').textContent = `(unavailable: ${err.message})`;
    }
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    el.append(...children);
    return el;
  }
  const views = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString());
  const perView = (n) => (n === null || n === undefined ? '–' : Number(n).toFixed(4));
  const SERIES_COLOURS = ['#4dabf7', '#51cf66', '#fcc419', '#ff922b', '#cc5de8', '#ff6b6b', '#20c997', '#748ffc'];

  function renderPerformance(report) {
    const posts = report.posts || [];
    const measured = posts.filter((p) => p.series && p.series.length);
    // Posts no read has measured yet: counted, so a panel read right after publishing does not say nothing was
    // published, with when the soonest of them is read (the workers' clock, as its series was started).
    const unread = (report.unread || []).filter((u) => !u.ended);
    // Series that ended at their first read (the post deleted, or private) or failed every read: never measured, said so with the reason.
    const ended = (report.unread || []).filter((u) => u.ended);
    const firstDue = report.firstReadingAt;
    // Due within the last few seconds is "now" (its read is in its line, "0s ago" says nothing); later, how late.
    const firstReading = !firstDue
      ? 'no reading scheduled yet'
      : !due(firstDue)
        ? `the first reading ${relative(firstDue)}`
        : Date.parse(firstDue) > Date.now() - 5000
          ? 'the first reading due now'
          : `the first reading due ${relative(firstDue)}`;
    const endedText = ended.length ? `, ${ended.length} never read (${ended[0].platform}: ${ended[0].ended})` : '';
    $('performance-count').textContent = unread.length
      ? `(${posts.length} measured, ${unread.length} not read yet, ${firstReading}${endedText})`
      : `(${posts.length} posts${endedText})`;
    // Measured, then no longer (a series stopped, its reads failing): said so, not left looking like a young post.
    const behind = posts.filter((p) => p.behind);
    $('perf-behind').replaceChildren(
      ...behind.map((p) =>
        h(
          'div',
          { class: 'alert', 'data-testid': 'perf-behind', 'data-post-id': p.postId },
          `⚠️ ${p.platform} post of “${p.title}”: no +${p.behind.age} reading, due `,
          time(p.behind.dueAt),
          `: ${p.behind.reason}`,
        ),
      ),
    );
    $('perf-behind').hidden = behind.length === 0;
    $('performance-empty').hidden = measured.length > 0;
    // No axes without a line to read on them (an empty chart with a scale of 1 view, below it the reason).
    $('perf-figure').hidden = measured.length === 0;
    renderPerfChart(measured.slice(0, SERIES_COLOURS.length));
    const week = report.week || {};
    const { best, worst } = week;
    const group = (label, testid, g) =>
      g &&
      h(
        'li',
        { 'data-testid': testid },
        h('strong', { text: `${label}: ` }),
        `${g.key} · ${views(Math.round(g.totalViews / g.posts))} views a post (${g.posts})`,
      );
    $('perf-week').replaceChildren(
      ...[
        ['Best', best],
        ['Worst', worst],
      ]
        .filter(([, p]) => p)
        .map(([label, p]) =>
          h(
            'li',
            { 'data-testid': `perf-${label.toLowerCase()}` },
            h('strong', { text: `${label}: ` }),
            `${p.title} · ${p.type}${p.player ? ` · ${p.player}` : ''} · ${p.platform} · ${views(p.viewsLatest)} views`,
          ),
        ),
      ...[
        group('Best type', 'perf-best-type', week.bestType),
        group('Worst type', 'perf-worst-type', week.worstType),
        group('Best player', 'perf-best-player', week.bestPlayer),
        group('Worst player', 'perf-worst-player', week.worstPlayer),
      ].filter(Boolean),
    );
    if (!best) {
      // Asked without a date, the report's unread posts are the week's.
      const waiting = unread.length;
      const text = waiting
        ? `Nothing measured yet this week: ${waiting} post${waiting === 1 ? '' : 's'} published, ${firstReading}.`
        : 'Nothing published this week.';
      $('perf-week').replaceChildren(h('li', { class: 'muted', 'data-testid': 'perf-week-empty', text }));
    }
    const groupRows = (list) =>
      list.map((g) =>
        h(
          'tr',
          { 'data-testid': 'perf-group' },
          h('td', { class: 'title', text: g.key }),
          h('td', { text: String(g.posts) }),
          h('td', { text: views(g.medianViews24h) }),
          h('td', { text: views(g.totalViews) }),
          h('td', { text: perView(g.spendPerView) }),
        ),
      );
    // A table with nothing measured is only its headings: hidden with its title until there is a row.
    for (const [id, list] of [
      ['perf-types', report.byType || []],
      ['perf-players', report.byPlayer || []],
    ]) {
      $(id).tBodies[0].replaceChildren(...groupRows(list));
      $(id).hidden = list.length === 0;
      $(id).previousElementSibling.hidden = list.length === 0;
    }
  }

  // One line per video: x is the post's age on a log scale (1 h and 7 d both readable), y its views.
  function renderPerfChart(posts) {
    const W = 640;
    const H = 220;
    const PAD = 36;
    const all = posts.flatMap((p) => p.series.filter((s) => s.views !== null));
    const maxViews = Math.max(1, ...all.map((s) => s.views));
    const ages = all.map((s) => Math.max(1, s.ageSeconds));
    const lo = Math.log(Math.min(...ages, 3600));
    const hi = Math.log(Math.max(...ages, 7 * 86400));
    const x = (age) => PAD + ((Math.log(Math.max(1, age)) - lo) / Math.max(1e-9, hi - lo)) * (W - 2 * PAD);
    const y = (v) => H - PAD + 10 - (v / maxViews) * (H - 2 * PAD);
    const grid = [
      [3600, '1 h'],
      [21600, '6 h'],
      [86400, '24 h'],
      [259200, '3 d'],
      [604800, '7 d'],
    ].filter(([age]) => Math.log(age) >= lo && Math.log(age) <= hi);
    const children = [
      svg('line', { x1: PAD, y1: y(0), x2: W - PAD, y2: y(0), class: 'axis' }),
      svg('text', { x: 2, y: y(maxViews) + 4, class: 'tick' }, views(maxViews)),
      ...grid.flatMap(([age, label]) => [
        svg('line', { x1: x(age), y1: y(0), x2: x(age), y2: y(maxViews), class: 'grid' }),
        svg('text', { x: x(age) - 10, y: H - 4, class: 'tick' }, label),
      ]),
      ...posts.map((p, i) => {
        const points = p.series.filter((s) => s.views !== null).map((s) => `${x(s.ageSeconds).toFixed(1)},${y(s.views).toFixed(1)}`);
        const line = svg('polyline', { points: points.join(' '), fill: 'none', stroke: SERIES_COLOURS[i], 'stroke-width': 2 });
        line.append(svg('title', {}, `${p.title} (${p.platform}): ${views(p.viewsLatest)} views at ${p.lastAge}`));
        return line;
      }),
    ];
    $('perf-chart').replaceChildren(...children);
    $('perf-legend').replaceChildren(
      ...posts.map((p, i) => {
        // Through CSSOM: the page's CSP (style-src 'self') refuses style attributes.
        const swatch = h('span', { class: 'swatch' });
        swatch.style.background = SERIES_COLOURS[i];
        return h(
          'li',
          { 'data-testid': 'perf-series' },
          swatch,
          // One line a video: a long title ends in an ellipsis (the whole of it on hover), the button stays beside it.
          h(
            'span',
            { class: 'series-label', title: `${p.title} · ${p.platform}` },
            `${p.title} · ${p.platform} · ${views(p.viewsLatest)} (${p.lastAge}) `,
          ),
          republishButton({ id: p.recommendationId, title: p.title }, p.platform),
        );
      }),
    );
  }

  function renderFailures(failures) {
    $('failures').replaceChildren(
      ...(failures.length
        ? failures.map((f) =>
            h(
              'li',
              { class: f.event, 'data-testid': 'failure' },
              h(
                'div',
                {},
                h('strong', { text: f.event === 'failed' ? 'Failed' : `Retrying (attempt ${f.attempt ?? '?'})` }),
                ` · ${f.priority} · ${f.title || f.jobType} · ${f.provider} · `,
                time(f.at),
                ' · ',
                workflowLink(f.workflowId),
              ),
              h('div', { class: 'err', text: f.error || '(no message)' }),
            ),
          )
        : [h('li', { class: 'muted', text: 'No failures recently.' })]),
    );
  }

  // --- boot ----------------------------------------------------------------------------------
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('login-error').textContent = '';
    const token = $('token').value.trim();
    try {
      await signIn(token);
      $('token').value = '';
    } catch (err) {
      $('login-error').textContent = err.status === 401 ? 'That token is not valid (or was revoked).' : err.message;
    }
  });
  $('logout').addEventListener('click', () => signOut());

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved).catch(() => signOut('Your saved token is no longer valid; sign in again.'));
  else $('login').hidden = false;
})();
