// @ts-check
/**
 * Shared helpers of the benchmarks: timing a child process (wall clock, CPU of the whole process tree, peak
 * RSS), statistics, machine facts, and replacing one generated section of docs/BENCHMARKS.md.
 *
 * CPU time: the difference of this process's `cutime + cstime` (/proc/self/stat, Linux) around one child, which
 * counts the child and everything it waited for (ffmpeg under node, node under /usr/bin/time). Null elsewhere.
 * Peak RSS: GNU time's `%M` (the largest single process of the tree) when /usr/bin/time is GNU time; else null.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** @type {number | null} */
let clockTicks = null;

function ticksPerSecond() {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds (user + system) of the children this process has waited for; null where /proc is missing. */
export function childrenCpuSeconds() {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after the command name: field 3 (state) is index 0, so cutime (16) and cstime (17) are 13 and 14
    return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) of this process. */
export function selfCpuSeconds() {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1e6;
}

/**
 * Machine-wide CPU time from /proc/stat (all CPUs, seconds): busy and total. Null where /proc/stat is missing.
 * @returns {{ busy: number, total: number } | null}
 */
export function machineCpu() {
  if (process.platform !== 'linux') return null;
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / ticksPerSecond(), total: total / ticksPerSecond() };
  } catch {
    return null;
  }
}

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (at most `maxSeconds`) until the machine is quiet: a 1-second window in which other processes kept less
 * than `maxBusyCores` CPUs busy. Returns the seconds waited (0 without /proc/stat or when maxSeconds is 0).
 * @param {number} maxSeconds @param {number} [maxBusyCores]
 */
export async function waitForQuiet(maxSeconds, maxBusyCores = 0.15) {
  if (maxSeconds <= 0 || machineCpu() === null) return 0;
  const t0 = performance.now();
  for (;;) {
    const a = machineCpu();
    await sleep(1000);
    const b = machineCpu();
    const waited = (performance.now() - t0) / 1000;
    if (!a || !b || (b.busy - a.busy) / ((b.total - a.total) / os.cpus().length) < maxBusyCores || waited >= maxSeconds) return waited;
  }
}

/** @type {string | null | undefined} */
let gnuTime;

/** /usr/bin/time when it is GNU time (it writes `%M` to a file), else null. */
export function gnuTimePath() {
  if (gnuTime !== undefined) return gnuTime;
  gnuTime = null;
  if (existsSync('/usr/bin/time')) {
    try {
      execFileSync('/usr/bin/time', ['-f', '%M', '-o', '/dev/null', 'true'], { stdio: 'ignore' });
      gnuTime = '/usr/bin/time';
    } catch {
      gnuTime = null;
    }
  }
  return gnuTime;
}

/**
 * @typedef {object} Measurement
 * @property {number} wall_s     wall clock of the process, spawn to exit
 * @property {number | null} cpu_s  user + system CPU of the process tree
 * @property {number | null} maxrss_kb  peak RSS of the largest process of the tree
 * @property {string} stdout
 * @property {number[]} bytes    bytes read from each extra pipe (fd 3, 4, …)
 * @property {number | null} other_cores  CPUs kept busy by other processes on the machine during the run, on average
 */

/**
 * Runs `command args` to completion and measures it. `pipes`: extra output pipes (fd 3…) drained and counted,
 * stdout is captured when `capture`, else drained and discarded (counted as bytes[0] of `stdoutBytes`).
 * Rejects on a non-zero exit with the stderr tail.
 * @param {string} command
 * @param {string[]} args
 * `countSelf`: add this process's own CPU time over the run (for a child whose output this process consumes).
 * @param {{ capture?: boolean, pipes?: number, countSelf?: boolean, env?: NodeJS.ProcessEnv, tmpDir: string }} options
 * @returns {Promise<Measurement & { stdoutBytes: number }>}
 */
export async function measure(command, args, options) {
  const time = gnuTimePath();
  const rssFile = path.join(options.tmpDir, `rss-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const [file, argv] = time ? [time, ['-f', '%M', '-o', rssFile, command, ...args]] : [command, args];
  const pipes = options.pipes ?? 0;
  /** @type {import('node:child_process').StdioOptions} */
  const stdio = ['ignore', 'pipe', 'pipe', ...Array.from({ length: pipes }, () => /** @type {'pipe'} */ ('pipe'))];
  const cpu0 = childrenCpuSeconds();
  const self0 = selfCpuSeconds();
  const machine0 = machineCpu();
  const t0 = performance.now();
  const child = spawn(file, argv, { stdio, env: options.env ?? process.env });
  /** @type {Buffer[]} */
  const out = [];
  let stdoutBytes = 0;
  let stderr = '';
  const bytes = Array.from({ length: pipes }, () => 0);
  child.stdout?.on('data', (chunk) => {
    stdoutBytes += chunk.length;
    if (options.capture) out.push(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  for (let k = 0; k < pipes; k++) {
    const stream = /** @type {import('node:stream').Readable} */ (child.stdio[3 + k]);
    stream.on('data', (chunk) => {
      bytes[k] = (bytes[k] ?? 0) + chunk.length;
    });
  }
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? signal));
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = childrenCpuSeconds();
  const self1 = selfCpuSeconds();
  const machine1 = machineCpu();
  let maxrss = null;
  if (time) {
    const text = await fs.readFile(rssFile, 'utf8').catch(() => '');
    await fs.rm(rssFile, { force: true });
    const last = text.trim().split('\n').pop() ?? '';
    maxrss = /^\d+$/.test(last) ? Number(last) : null;
  }
  if (code !== 0) {
    throw new Error(`${path.basename(command)} ${args.slice(0, 6).join(' ')} … exited with ${code}: ${stderr.trim().slice(-1500)}`);
  }
  const tree = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 + (self1 - self0) : null;
  const other = machine0 && machine1 && tree !== null ? Math.max(0, (machine1.busy - machine0.busy - tree) / wall) : null;
  return {
    other_cores: other,
    wall_s: wall,
    cpu_s: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 + (options.countSelf ? self1 - self0 : 0) : null,
    maxrss_kb: maxrss,
    stdout: Buffer.concat(out).toString('utf8'),
    stdoutBytes,
    bytes,
  };
}

/** @param {number[]} values */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 ? /** @type {number} */ (sorted[(n - 1) / 2]) : (/** @type {number} */ (sorted[n / 2 - 1]) + /** @type {number} */ (sorted[n / 2])) / 2;
}

/** @param {number[]} values */
export function min(values) {
  return values.length ? Math.min(...values) : NaN;
}

/** @param {(number | null)[]} values */
export function medianOrNull(values) {
  const known = /** @type {number[]} */ (values.filter((v) => v !== null && Number.isFinite(v)));
  return known.length === values.length && known.length > 0 ? median(known) : null;
}

/** @param {(number | null)[]} values */
export function maxOrNull(values) {
  const known = /** @type {number[]} */ (values.filter((v) => v !== null && Number.isFinite(v)));
  return known.length ? Math.max(...known) : null;
}

/** Facts about this machine for the report. */
export function machineInfo() {
  const cpus = os.cpus();
  let cpuModel = cpus[0]?.model?.trim() || 'unknown';
  if (cpuModel === 'unknown' && existsSync('/proc/cpuinfo')) {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  }
  const nproc = typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length;
  return {
    nproc,
    logical_cpus: cpus.length,
    cpu_model: cpuModel,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/**
 * Replaces the text between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->` in `file` (created from
 * `header` when missing; the section is appended when the file has no such markers). Text outside the markers
 * (hand-written analysis, other benchmarks) is kept.
 * @param {string} file
 * @param {string} name
 * @param {string} body
 * @param {string} header
 */
export async function writeSection(file, name, body, header) {
  const begin = `<!-- bench:${name}:begin (generated by \`npm run bench\`; edits inside are overwritten) -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${begin}\n${body.trim()}\n${end}`;
  let text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) text = `${header.trim()}\n\n${block}\n`;
  else {
    const i = text.indexOf(`<!-- bench:${name}:begin`);
    const j = text.indexOf(end);
    if (i >= 0 && j > i) text = `${text.slice(0, i)}${block}${text.slice(j + end.length)}`;
    else text = `${text.trimEnd()}\n\n${block}\n`;
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(temp, text);
  await fs.rename(temp, file);
}

/** @param {number | null | undefined} x @param {number} [digits] */
export function fmt(x, digits = 2) {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

/** @param {number | null | undefined} kb */
export function fmtMiB(kb) {
  return kb === null || kb === undefined ? '–' : `${Math.round(kb / 1024)} MiB`;
}
