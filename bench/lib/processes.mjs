// Process bookkeeping from /proc (Linux): the workerd processes a wrangler started, their CPU time
// and their peak resident memory.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

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

/** The loopback TCP ports `pid` listens on, from its socket descriptors and /proc/net/tcp. */
export function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    // sl local_address rem_address st ... inode: state 0A is LISTEN.
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 10 && fields[3] === "0A" && inodes.has(fields[9])) ports.push(parseInt(fields[1].split(":")[1], 16));
  }
  return ports;
}

/** The CPUs `pid` may run on, from `taskset -p -c` ("pid 7's current affinity list: 0,2-3"). */
function affinityOf(pid) {
  const text = execFileSync("taskset", ["-p", "-c", String(pid)], { encoding: "utf8" });
  const list = text.slice(text.lastIndexOf(":") + 1).trim();
  return list.split(",").flatMap((part) => {
    const [first, last = first] = part.split("-").map(Number);
    return Array.from({ length: last - first + 1 }, (_, index) => first + index);
  });
}

function setAffinity(pid, cpus) {
  // -a: every thread of the process, the ones it starts later inherit it.
  execFileSync("taskset", ["-a", "-p", "-c", cpus.join(","), String(pid)], { stdio: "ignore" });
}

/**
 * Gives the runtime workerd the last CPU this process may use, to itself, and moves this process
 * (the load generator) to the others, so that a throughput is the runtime's own and not a share of
 * CPUs it contends for with its client. Returns what was done and `restore`, which gives both the
 * CPUs they had. Nothing is pinned on one CPU or without `taskset` (util-linux).
 */
export function pinApart(runtimePid) {
  const none = (reason) => ({ pinned: false, reason, restore: () => undefined });
  let before;
  try {
    before = { runtime: affinityOf(runtimePid), client: affinityOf(process.pid) };
  } catch (error) {
    return none(`taskset failed (${error.message.split("\n")[0]})`);
  }
  const cpus = before.client;
  if (cpus.length < 2) return none("one CPU: nothing to pin apart");
  const runtimeCpus = cpus.slice(-1);
  const clientCpus = cpus.slice(0, -1);
  const restore = () => {
    for (const [pid, list] of [
      [runtimePid, before.runtime],
      [process.pid, before.client],
    ]) {
      try {
        setAffinity(pid, list);
      } catch {
        // gone
      }
    }
  };
  try {
    setAffinity(runtimePid, runtimeCpus);
    setAffinity(process.pid, clientCpus);
  } catch (error) {
    restore();
    return none(`taskset failed (${error.message.split("\n")[0]})`);
  }
  return { pinned: true, runtimeCpus: runtimeCpus.join(","), clientCpus: clientCpus.join(","), restore };
}
