// Process bookkeeping from /proc (Linux): the workerd processes a wrangler started, their CPU time
// and their peak resident memory.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

/** Clock ticks per second of /proc CPU times (USER_HZ, 100 on nearly every Linux). */
const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: fields start after the last ")".
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    // fields[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return { pid, comm, ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]) };
  } catch {
    return null;
  }
}

function allProcesses() {
  const list = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) list.push(stat);
  }
  return list;
}

/** Every live descendant of `rootPid`. */
export function descendants(rootPid) {
  const all = allProcesses();
  const children = new Map();
  for (const proc of all) {
    if (!children.has(proc.ppid)) children.set(proc.ppid, []);
    children.get(proc.ppid).push(proc);
  }
  const found = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop();
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      stack.push(child.pid);
    }
  }
  return found;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/**
 * The workerd processes under a wrangler. wrangler dev runs two: the proxy that owns the public
 * port (and forwards every request) and the runtime that runs the Workers and Durable Objects.
 */
export function workerdProcesses(wranglerPid, publicPort) {
  return descendants(wranglerPid)
    .filter((proc) => proc.comm === "workerd")
    .map((proc) => {
      const command = cmdline(proc.pid);
      const role = command.includes(`:${publicPort} `) || command.endsWith(`:${publicPort}`) ? "proxy" : "runtime";
      return { pid: proc.pid, role };
    });
}

function memoryKiB(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Peak (VmHWM) and current (VmRSS) resident memory of each process, MiB. */
export function memory(processes) {
  return processes.map(({ pid, role }) => ({
    pid,
    role,
    peakMiB: round(memoryKiB(pid, "VmHWM") / 1024),
    rssMiB: round(memoryKiB(pid, "VmRSS") / 1024),
  }));
}

const round = (value) => (value === null || Number.isNaN(value) ? null : Math.round(value * 10) / 10);

/**
 * CPU time used by each process and by this Node process between two calls. The load generator
 * runs in this process, so its share is the client's.
 */
export function cpuMeter(processes) {
  const ticksPerSecond = clockTicks;
  const ticks = (pid) => {
    const stat = readStat(pid);
    return stat ? stat.utime + stat.stime : null;
  };
  const before = new Map(processes.map(({ pid }) => [pid, ticks(pid)]));
  const clientBefore = process.cpuUsage();
  return () => {
    const client = process.cpuUsage(clientBefore);
    const result = { client: (client.user + client.system) / 1000 };
    for (const { pid, role } of processes) {
      const start = before.get(pid);
      const end = ticks(pid);
      if (start === null || end === null) continue;
      result[role] = (result[role] ?? 0) + ((end - start) * 1000) / ticksPerSecond;
    }
    return result; // milliseconds of CPU per role
  };
}
