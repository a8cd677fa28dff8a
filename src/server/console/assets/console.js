// The console's one script: live updates on the runs view. Everything it puts on the page is set
// with textContent (never innerHTML): run ids, tools and codes come from the API and, through
// tool names a guest can ask for, partly from guests.
'use strict';

function duration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  const min = Math.floor(ms / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  if (min < 60) return s === 0 ? min + ' min' : min + ' min ' + s + ' s';
  return min % 60 === 0 ? Math.floor(min / 60) + ' h' : Math.floor(min / 60) + ' h ' + (min % 60) + ' min';
}

function time(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : new Date(t).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

function list(v) {
  return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
}

function cell(tr, value) {
  const td = document.createElement('td');
  td.textContent = value;
  tr.appendChild(td);
  return td;
}

function rowFor(run) {
  const tr = document.createElement('tr');
  tr.dataset.run = String(run.id);
  tr.className = 'status-' + String(run.status) + ' fresh';
  const link = document.createElement('a');
  link.href = '/console/runs/' + encodeURIComponent(String(run.id));
  link.textContent = String(run.id);
  cell(tr, '').appendChild(link);
  const badge = document.createElement('span');
  badge.className = 'badge badge-' + String(run.status);
  badge.textContent = String(run.status);
  cell(tr, '').appendChild(badge);
  cell(tr, String(run.tier));
  cell(tr, time(run.startedAt));
  cell(tr, duration(run.durationMs));
  cell(tr, list(run.tools).join(', '));
  cell(tr, String(typeof run.denials === 'number' ? run.denials : 0));
  const codes = new Set(list(run.deniedCodes));
  if (typeof run.errorCode === 'string') codes.add(run.errorCode);
  cell(tr, [...codes].join(', '));
  return tr;
}

function matches(table, run) {
  const f = table.dataset;
  if (f.status && run.status !== f.status) return false;
  if (f.tier && run.tier !== f.tier) return false;
  if (f.tool && !list(run.tools).includes(f.tool)) return false;
  if (f.code && run.errorCode !== f.code && !list(run.deniedCodes).includes(f.code)) return false;
  return true;
}

function follow(table) {
  const status = document.getElementById('live-status');
  const body = table.tBodies[0];
  const source = new EventSource(table.dataset.live);
  const onRun = (kind) => (e) => {
    let run;
    try {
      run = JSON.parse(e.data);
    } catch {
      return;
    }
    if (run === null || typeof run !== 'object' || !matches(table, run)) return;
    const row = rowFor(run);
    const old = [...body.rows].find((r) => r.dataset.run === String(run.id));
    if (old) old.replaceWith(row);
    else body.insertBefore(row, body.firstChild);
    if (status) status.textContent = 'Run ' + String(run.id) + (kind === 'run.started' ? ' started.' : ' ended: ' + String(run.status) + '.');
  };
  source.addEventListener('run.started', onRun('run.started'));
  source.addEventListener('run.ended', onRun('run.ended'));
  source.addEventListener('open', () => table.setAttribute('data-following', 'yes'));
}

document.addEventListener('DOMContentLoaded', () => {
  const table = document.getElementById('runs');
  if (table && table.dataset.live) follow(table);
});
