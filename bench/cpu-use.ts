import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds used over a stretch of time, by part of the system (Linux /proc; zeros elsewhere). */
export interface CpuUse {
  /** The benchmark's own process: the api and the coordinator. */
  coordinator: number;
  /** The worker processes together. */
  workers: number;
  redis: number;
  /** The PostgreSQL server's processes (0 on SQLite, which runs inside the others). */
  postgres: number;
  /** Everything else that ran on the machine meanwhile, the kernel included. */
  other: number;
  /** CPU seconds the machine had in all (cores × wall time). */
  capacity: number;
}

const TICKS_PER_SECOND = 100;

interface Snapshot {
  /** pid → [command name, CPU ticks]. */
  processes: Map<number, [string, number]>;
  busy: number;
  all: number;
}

function snapshot(): Snapshot {
  const processes = new Map<number, [string, number]>();
  let busy = 0;
  let all = 0;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        processes.set(Number(entry), [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), Number(fields[11]) + Number(fields[12])]);
      } catch {
        // The process ended while the list was read.
      }
    }
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    busy = user! + nice! + system! + irq! + softirq! + steal!;
    all = busy + idle! + iowait!;
  } catch {
    // Not Linux: everything stays 0.
  }
  return { processes, busy, all };
}

/** Starts measuring; the function it returns ends the measurement. `workerPids` is read at the end. */
export function cpuMeter(workerPids: () => Iterable<number>): () => CpuUse {
  const before = snapshot();
  return () => {
    const after = snapshot();
    const workers = new Set(workerPids());
    const use = { coordinator: 0, workers: 0, redis: 0, postgres: 0 };
    for (const [pid, [name, ticks]] of after.processes) {
      // A process started meanwhile counts from zero.
      const seconds = (ticks - (before.processes.get(pid)?.[1] ?? 0)) / TICKS_PER_SECOND;
      if (pid === process.pid) use.coordinator += seconds;
      else if (workers.has(pid)) use.workers += seconds;
      else if (name === 'redis-server') use.redis += seconds;
      else if (name === 'postgres') use.postgres += seconds;
    }
    const busy = (after.busy - before.busy) / TICKS_PER_SECOND;
    const ours = use.coordinator + use.workers + use.redis + use.postgres;
    return { ...use, other: Math.max(0, busy - ours), capacity: (after.all - before.all) / TICKS_PER_SECOND };
  };
}

/** One line: where the CPU went. */
export function formatCpu(c: CpuUse): string {
  const f = (s: number) => s.toFixed(1);
  return `CPU s: coordinator+api ${f(c.coordinator)}, workers ${f(c.workers)}, redis ${f(c.redis)}, postgres ${f(c.postgres)}, other processes ${f(c.other)}; machine ${f(c.coordinator + c.workers + c.redis + c.postgres + c.other)} of ${f(c.capacity)}`;
}
