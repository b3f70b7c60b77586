// Turns the raw results of benches/load/run.sh into the Markdown tables of BENCHMARKS.md.
//
//   node report.mjs <results dir>
//
// Reads results.jsonl (one wrk run per line), paced.jsonl (the same at a moderate load),
// rss.json, storm.jsonl and meta.md from the
// directory. Each figure is the median over the rounds; each ratio is the median of the
// per-round ratios to the nginx proxy measured in the same round, so a machine that drifts
// during the run (another process waking up) moves both sides of a ratio together.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Systems in table order, with the label of their row. */
const SYSTEMS = [
  ['upstream', 'upstream alone (nginx `return 200`, no proxy)'],
  ['nginx', 'nginx plain reverse proxy (the floor)'],
  ['passthrough', 'pingora 0.9 passthrough, no tokengate code (`examples/pingora_passthrough.rs`)'],
  ['apache', 'Apache httpd 2.4 + mod_auth_openidc, client-cookie session'],
  ['tg-open', 'tokengate (a) `auth: none`'],
  ['tg-hit', 'tokengate (b) authenticated, token cached'],
  ['tg-first', 'tokengate (c) fresh session, one exchange then cached'],
];
const BASE = 'nginx';
const RSS_ROWS = [
  ['nginx-upstream', 'nginx upstream (master + 2 workers)'],
  ['nginx', 'nginx proxy (master + 2 workers)'],
  ['apache', 'Apache (parent + 2 children × 32 threads)'],
  ['tokengate', 'tokengate (one process, 2 threads; rows a–c)'],
];

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const ms = (us) => fmt(us / 1000, 2);
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');

function readLines(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function loadTable(runs) {
  const rounds = [...new Set(runs.map((r) => r.round))].sort((a, b) => a - b);
  const run = (system, round) => runs.find((r) => r.system === system && r.round === round);
  const at = (system, round) => run(system, round)?.wrk;
  const cpuAt = (system, round) => run(system, round)?.cpu_us_per_request;
  const rows = [];
  for (const [system, label] of SYSTEMS) {
    const mine = rounds.map((round) => ({
      own: at(system, round),
      base: at(BASE, round),
      cpuOwn: cpuAt(system, round),
      cpuBase: cpuAt(BASE, round),
    })).filter((x) => x.own);
    if (mine.length === 0) continue;
    const perRound = (f) => mine.map(({ own, base }) => (base ? f(own) / f(base) : NaN));
    const own = mine.map((x) => x.own);
    rows.push({
      system,
      label,
      rounds: own.length,
      rps: median(own.map((w) => w.rps)),
      p50: median(own.map((w) => w.p50_us)),
      p99: median(own.map((w) => w.p99_us)),
      max: Math.max(...own.map((w) => w.max_us)),
      rpsRatio: median(perRound((w) => w.rps)),
      p50Ratio: median(perRound((w) => w.p50_us)),
      p99Ratio: median(perRound((w) => w.p99_us)),
      p99Ratios: perRound((w) => w.p99_us).filter(Number.isFinite),
      cpu: median(mine.map((x) => x.cpuOwn)),
      cpuRatio: median(mine.map((x) => (x.cpuBase ? x.cpuOwn / x.cpuBase : NaN))),
      errors: own.reduce((n, w) => n + w.errors, 0),
      requests: own.reduce((n, w) => n + w.requests, 0),
      exchanges: runs.filter((r) => r.system === system && rounds.includes(r.round))
        .map((r) => r.exchanges),
    });
  }
  return rows;
}

function printLoad(rows) {
  const out = [];
  out.push('| system | req/s | × nginx | p50 ms | × nginx | p99 ms | × nginx | max ms | server CPU µs/req | × nginx | errors / requests | token exchanges per run |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const ex = r.exchanges.every((e) => e === null) ? '–' : r.exchanges.join(', ');
    out.push(`| ${r.label} | ${fmt(r.rps)} | ${ratio(r.rpsRatio)} | ${ms(r.p50)} | ${ratio(r.p50Ratio)} `
      + `| ${ms(r.p99)} | ${ratio(r.p99Ratio)} | ${ms(r.max)} | ${fmt(r.cpu, 1)} | ${ratio(r.cpuRatio)} `
      + `| ${r.errors} / ${r.requests} | ${ex} |`);
  }
  return out.join('\n');
}

function printPaced(rows) {
  const out = [];
  out.push('| system | req/s | p50 ms | × nginx | p99 ms | × nginx | max ms | errors / requests |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    out.push(`| ${r.label} | ${fmt(r.rps)} | ${ms(r.p50)} | ${ratio(r.p50Ratio)} | ${ms(r.p99)} `
      + `| ${ratio(r.p99Ratio)} | ${ms(r.max)} | ${r.errors} / ${r.requests} |`);
  }
  return out.join('\n');
}

function printTargets(rows, paced) {
  const by = Object.fromEntries(rows.map((r) => [r.system, r]));
  const hit = by['tg-hit'];
  const apache = by.apache;
  if (!hit) return '';
  const lines = ['| target | measured | met |', '|---|---:|---|'];
  const row = (what, value, ok) => lines.push(`| ${what} | ${value} | ${ok ? 'yes' : '**no**'} |`);
  row('cache hit req/s ≥ 1.0× nginx proxy', ratio(hit.rpsRatio), hit.rpsRatio >= 1.0);
  row('cache hit p99 ≤ 1.2× nginx proxy (at saturation)', ratio(hit.p99Ratio), hit.p99Ratio <= 1.2);
  // At a moderate load a pause of the machine (another VM, a timer) lands on every system's
  // p99 alike, so one round can say anything: judged met only when every round says so, missed
  // only when every round says so, otherwise undecided, with the per-round spread shown.
  const pacedHit = paced.find((r) => r.system === 'tg-hit');
  if (pacedHit && pacedHit.p99Ratios.length) {
    const lo = Math.min(...pacedHit.p99Ratios);
    const hi = Math.max(...pacedHit.p99Ratios);
    const verdict = hi <= 1.2 ? 'yes' : lo > 1.2 ? '**no**' : 'undecided (rounds disagree)';
    lines.push(`| cache hit p99 ≤ 1.2× nginx proxy (at the same moderate load) | ${ratio(pacedHit.p99Ratio)} `
      + `(rounds: ${ratio(lo)}–${ratio(hi)}) | ${verdict} |`);
  }
  if (apache) {
    const vsApache = hit.rps / apache.rps;
    row('cache hit req/s ≥ 3× Apache + mod_auth_openidc', ratio(vsApache), vsApache >= 3);
  }
  return lines.join('\n');
}

function printRss(rss) {
  const out = ['| server | peak RSS (VmHWM, MiB) |', '|---|---:|'];
  for (const [key, label] of RSS_ROWS) {
    if (rss[key] !== undefined) out.push(`| ${label} | ${fmt(rss[key] / 1024, 1)} |`);
  }
  return out.join('\n');
}

function printStorm(storms) {
  const out = [
    '| provider | sessions × token sets | token-endpoint calls (expected) | refresh tokens reused | non-200 | wrong token | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const label = { rotating: 'rotates refresh tokens (the demo default)', 'non-rotating': 'does not rotate (`--no-rotation`)' };
  for (const s of storms) {
    const calls = `${s.calls} (${s.expected_calls})${s.calls === s.expected_calls ? '' : ' **≠**'}`;
    out.push(`| ${label[s.variant] ?? s.variant} | ${s.sessions} × ${s.token_sets} | ${calls} | ${s.reuse_detected} | ${s.non200} `
      + `| ${s.wrong_token} | ${fmt(s.p50_ms, 1)} | ${fmt(s.p99_ms, 1)} | ${fmt(s.max_ms, 1)} |`);
  }
  return out.join('\n');
}

function main([dir]) {
  if (!dir) throw new Error('usage: report.mjs <results dir>');
  const sections = [];
  const metaFile = join(dir, 'meta.md');
  if (existsSync(metaFile)) sections.push(readFileSync(metaFile, 'utf8').trim());
  const rows = loadTable(readLines(join(dir, 'results.jsonl')));
  if (rows.length) {
    sections.push(`### Throughput and latency (median of ${Math.max(...rows.map((r) => r.rounds))} rounds)\n\n${printLoad(rows)}`);
    const paced = loadTable(readLines(join(dir, 'paced.jsonl')));
    if (paced.length) {
      const pace = readLines(join(dir, 'paced.jsonl'))[0].pace_ms;
      sections.push(`### Latency at a moderate load (each connection waits ${pace} ms between requests; `
        + `median of ${Math.max(...paced.map((r) => r.rounds))} rounds)\n\n${printPaced(paced)}`);
    }
    const targets = printTargets(rows, paced);
    if (targets) sections.push(`### Targets\n\n${targets}`);
  }
  const rssFile = join(dir, 'rss.json');
  if (existsSync(rssFile)) sections.push(`### Peak memory\n\n${printRss(JSON.parse(readFileSync(rssFile, 'utf8')))}`);
  const storms = readLines(join(dir, 'storm.jsonl'));
  if (storms.length) sections.push(`### Refresh storm (token endpoint answers in 100 ms)\n\n${printStorm(storms)}`);
  process.stdout.write(`${sections.join('\n\n')}\n`);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`report: ${err.message}\n`);
  process.exit(1);
}
