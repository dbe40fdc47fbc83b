import { MultiBar, type SingleBar } from 'cli-progress';
import { unwrap, watchStudy, type ReceivedEvent, type Study, type StudyEvent } from '../client/index.ts';
import type { Context } from './context.ts';
import { duration, number, pairs } from './output.ts';

/** Exit code of a watch stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED = 130;

/** What the events say so far: trials ended and running, epochs, the best finished trial. */
export class Tally {
  readonly ended = new Set<number>();
  readonly running = new Set<number>();
  // Epochs by trial and number, so that events replayed after a `reset` (or a retried attempt's
  // repeats) count once: every count here is of a set, and the best is a maximum.
  private readonly epochSeen = new Set<string>();
  best: { number: number; value: number } | null = null;

  constructor(public total: number, readonly metric: string, private readonly maximize: boolean, private readonly startedAt: number) {}

  apply(e: StudyEvent): void {
    if (e.type === 'trial.started' || e.type === 'trial.promoted') this.running.add(e.number);
    else if (e.type === 'trial.paused' || e.type === 'trial.requeued') this.running.delete(e.number);
    else if (e.type === 'trial.epoch') this.epochSeen.add(`${e.number}:${e.epoch}`);
    else if (e.type === 'study.continued') this.total = e.maxTrials;
    else if (e.type === 'trial.ended') {
      this.running.delete(e.number);
      this.ended.add(e.number);
      // Finished trials rank as on the leaderboard: completed ones, and pruned ones by their best epoch.
      if ((e.state === 'completed' || e.state === 'pruned') && e.value !== null && (this.best === null || (this.maximize ? e.value > this.best.value : e.value < this.best.value))) {
        this.best = { number: e.number, value: e.value };
      }
    }
  }

  /** Distinct epochs trained, over every trial. */
  get epochs(): number {
    return this.epochSeen.size;
  }

  bestText(): string {
    return this.best ? `${number(this.best.value)} (#${this.best.number})` : '-';
  }

  /**
   * Time left at the study's pace so far (trials ended since it was created), not the watch's:
   * a watch that starts late replays the history in an instant.
   */
  etaText(now = Date.now()): string {
    const done = this.ended.size;
    if (done === 0 || this.total <= done) return '-';
    return duration(((now - this.startedAt) / done) * (this.total - done));
  }
}

/** One line for an event, for logs and pipes. */
function describe(e: StudyEvent, tally: Tally): string {
  const at = e.at ? `${e.at.slice(11, 19)} ` : '';
  const trial = 'number' in e ? `trial #${e.number}` : '';
  switch (e.type) {
    case 'trial.created':
      return `${at}${trial} created: ${e.family} ${pairs(e.params)}`;
    case 'trial.started':
      return `${at}${trial} started (attempt ${e.attempt}) on ${e.worker ?? 'a worker'} (${e.backend ?? 'backend unknown'})`;
    case 'trial.epoch':
      return `${at}${trial} epoch ${e.epoch}: ${pairs(e.metrics)}`;
    case 'trial.paused':
      return `${at}${trial} paused at rung ${e.rung} (epoch ${e.epoch})`;
    case 'trial.promoted':
      return `${at}${trial} promoted to rung ${e.rung}`;
    case 'trial.requeued':
      return `${at}${trial} requeued: ${e.reason}`;
    case 'trial.ended':
      // A failed or cancelled trial has no value worth a column; its reason says what happened.
      return `${at}${trial} ${e.state}: ${e.value === null ? (e.reason ?? 'no value') : `${tally.metric} ${number(e.value)}${e.reason ? ` (${e.reason})` : ''}`} [${tally.ended.size}/${tally.total} done, best ${tally.bestText()}]`;
    case 'study.state':
      return `${at}study ${e.state}${e.message ? `: ${e.message}` : ''}`;
    case 'study.continued':
      return `${at}study continued: ${e.message}`;
    case 'champion.decision':
      return `${at}model ${e.model}${e.version === null ? '' : ` v${e.version}`}: ${e.moved ? 'now champion' : 'champion unchanged'} (${e.reason})`;
    case 'study.ended':
      return `${at}study ${e.state}${e.message ? `: ${e.message}` : ''}; best ${tally.metric} ${tally.bestText()}`;
    case 'reset':
      return `${at}older events were dropped (${e.reason}); going on from the oldest kept`;
  }
}

/** How a watch shows events: a live bar on a terminal, lines otherwise, JSON lines with --json. */
interface Display {
  event(e: ReceivedEvent): void;
  note(text: string): void;
  close(): void;
}

function lineDisplay(ctx: Context, tally: Tally): Display {
  return {
    event: (e) => ctx.print(ctx.json ? JSON.stringify(e) : describe(e, tally)),
    note: (text) => ctx.io.stderr.write(`${text}\n`),
    close: () => undefined,
  };
}

/** Events that get a line above the bar; epochs and starts only move the bar. */
const LOGGED = new Set<StudyEvent['type']>(['trial.ended', 'trial.requeued', 'study.state', 'champion.decision', 'reset']);

function liveDisplay(ctx: Context, tally: Tally): Display {
  const bars = new MultiBar({
    stream: ctx.io.stdout,
    // Fits an 80-column terminal; cli-progress cuts longer lines.
    format: 'trials {bar} {value}/{total} | best {best} | running {running} | {epochs} epochs | ETA {remaining}',
    barsize: 16,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: false,
  });
  const payload = () => ({ best: tally.bestText(), running: tally.running.size, epochs: tally.epochs, remaining: tally.etaText() });
  const bar: SingleBar = bars.create(tally.total, tally.ended.size, payload());
  let last: string | undefined;
  return {
    event: (e) => {
      if (LOGGED.has(e.type)) bars.log(`${describe(e, tally)}\n`);
      // The study's last line goes below the final bar, where the eye ends up.
      if (e.type === 'study.ended') last = describe(e, tally);
      bar.update(tally.ended.size, payload());
    },
    note: (text) => bars.log(`${text}\n`),
    close: () => {
      // stop() draws the bars once more but drops log lines not yet drawn; update() writes them first.
      bars.update();
      bars.stop();
      if (last) ctx.print(last);
    },
  };
}

/**
 * Ctrl-C and SIGTERM end the watch (the study goes on) instead of killing it mid-draw, while it
 * runs; other commands keep the default, which ends the process at once.
 */
function catchInterrupts(): { signal: AbortSignal; release(): void } {
  const stop = new AbortController();
  const abort = () => stop.abort();
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const s of signals) process.once(s, abort);
  return { signal: stop.signal, release: () => signals.forEach((s) => process.off(s, abort)) };
}

/**
 * Follows a study until it ends, showing its progress; 0 when it completes, 1 when it fails or
 * is cancelled, 130 when interrupted (the study goes on).
 */
export async function watch(ctx: Context, studyId: string): Promise<number> {
  const study: Study = await unwrap(ctx.client.GET('/v1/studies/{id}', { params: { path: { id: studyId } } }));
  const config = (study.config ?? {}) as { objective?: { metric?: string; direction?: string }; budget?: { maxTrials?: number } };
  const tally = new Tally(config.budget?.maxTrials ?? 0, config.objective?.metric ?? 'value', config.objective?.direction === 'maximize', Date.parse(study.createdAt));
  const display = ctx.io.stdout.isTTY && !ctx.json ? liveDisplay(ctx, tally) : lineDisplay(ctx, tally);
  const interrupt = ctx.io.signal ? { signal: ctx.io.signal, release: () => undefined } : catchInterrupts();
  let ended: StudyEvent | undefined;
  try {
    const events = watchStudy(ctx.client.connection, studyId, {
      signal: interrupt.signal,
      onReconnect: ({ error, lastEventId }) => display.note(`connection lost (${(error as Error).message ?? error}); resuming after event ${lastEventId ?? '(start)'}`),
    });
    for await (const e of events) {
      tally.apply(e);
      display.event(e);
      if (e.type === 'study.ended') ended = e;
    }
  } finally {
    interrupt.release();
    display.close();
  }
  if (!ended) {
    ctx.io.stderr.write(`stopped watching; study ${studyId} goes on (maas studies watch ${studyId})\n`);
    return INTERRUPTED;
  }
  return ended.type === 'study.ended' && ended.state === 'completed' ? 0 : 1;
}
