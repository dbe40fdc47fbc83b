/** How many versions asked for by number (not through an alias) are kept warm, and how long at least. */
export interface PinOptions {
  /** Versions one project keeps warm; its next one takes the place of its own least recently used. @defaultValue 8 */
  perProject?: number;
  /** Versions kept warm across all projects; past it the least recently used of any project goes. @defaultValue 32 */
  total?: number;
  /**
   * ms a version stays warm at least, once asked for, before another may take its place. While
   * every candidate is younger, one more version is loaded for its request alone and released
   * after it, so that a flood of versions cannot push out what is in use. @defaultValue 5000
   */
  minKeepMs?: number;
}

interface Pin {
  projectId: string;
  versionId: string;
  /** ms; when this version was pinned under its key. */
  since: number;
}

/**
 * The versions asked for by number that are kept warm: a share per project (one project's
 * requests can only take the place of its own versions until the overall cap is reached), least
 * recently used first out, none before its minimum stay. Decides only; the predictor loads and releases.
 */
export class PinnedVersions {
  /** By `project/model#version`, in the order of last use (a Map keeps insertion order). */
  private readonly pins = new Map<string, Pin>();
  private readonly perProject: number;
  private readonly total: number;
  private readonly minKeepMs: number;

  constructor(options: PinOptions = {}, private readonly now: () => number = Date.now) {
    this.perProject = options.perProject ?? 8;
    this.total = Math.max(options.total ?? 32, this.perProject);
    this.minKeepMs = options.minKeepMs ?? 5000;
  }

  /**
   * Records a use of `key`, which names `versionId` in `projectId`, making room for it if it is new.
   * @returns whether it is kept (false: no room, every candidate is within its minimum stay), and
   * the version ids no longer pinned (release them unless something else keeps them)
   */
  use(projectId: string, key: string, versionId: string): { kept: boolean; released: string[] } {
    const previous = this.pins.get(key);
    if (previous?.versionId === versionId) {
      this.pins.delete(key);
      this.pins.set(key, previous);
      return { kept: true, released: [] };
    }
    const released: string[] = [];
    // The same number names another version only when a version was deleted and the number reused: same slot.
    if (previous) released.push(previous.versionId);
    else {
      const all = [...this.pins];
      const own = all.filter(([, p]) => p.projectId === projectId);
      const victim = own.length >= this.perProject ? this.evictable(own) : all.length >= this.total ? this.evictable(all) : null;
      if (victim === undefined) return { kept: false, released };
      if (victim !== null) {
        this.pins.delete(victim[0]);
        released.push(victim[1].versionId);
      }
    }
    this.pins.delete(key);
    this.pins.set(key, { projectId, versionId, since: this.now() });
    return { kept: true, released };
  }

  /** Forgets `key` (its version is gone); returns the version id it named, if it was pinned. */
  drop(key: string): string | undefined {
    const pin = this.pins.get(key);
    this.pins.delete(key);
    return pin?.versionId;
  }

  /** Whether some key keeps `versionId` warm. */
  holds(versionId: string): boolean {
    for (const p of this.pins.values()) if (p.versionId === versionId) return true;
    return false;
  }

  clear(): void {
    this.pins.clear();
  }

  /** The least recently used of `candidates` (in order of last use) past its minimum stay, if any. */
  private evictable(candidates: [string, Pin][]): [string, Pin] | undefined {
    const now = this.now();
    return candidates.find(([, p]) => now - p.since >= this.minKeepMs);
  }
}
