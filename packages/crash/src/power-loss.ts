// Power loss for killed children (layer 2). SIGKILL keeps the page cache, so a child that never
// fsynced looks fine after any kill wave. Here a preload in each child (power-loss-preload.js)
// journals its fs operations under a root; once the children are dead, `cut()` replays the
// journal into @faultline/faults' durability model and rewinds the real tree to what a power
// loss would have left, before the restart and the checks.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PowerLossModel, type PowerLossOp, type PowerLossReport, recordPowerLoss } from '@faultline/faults';
import { CrashError } from './errors.ts';

/** Absolute path of the journaling preload, for `node --import` in commands you build yourself. */
export const powerLossPreloadPath: string = fileURLToPath(new URL('./power-loss-preload.js', import.meta.url));

/** The env var the preload reads `{ root, journal }` from. */
export const POWER_LOSS_ENV = 'FAULTLINE_POWER_LOSS';

export interface PowerLossOptions {
  /** The tree the children write (it must exist); what is on disk under it now counts as durable. */
  root: string;
  /** Where the journal goes (default: a new temp dir); it must be outside `root`. */
  journalDir?: string;
}

type JournalLine = Exclude<PowerLossOp, { op: 'fsync' }> | { op: 'fsync'; path: string; ino?: number; blob: string };

/**
 * One tracked tree shared by every child spawned with it (`spawnManaged({ node: script }, args, { powerLoss })`, or
 * `env()` / `nodeArgs()` for other spawners). Hand it to killWave/runWaves as `powerLoss` and each
 * wave ends with a power loss; or call `cut()` yourself once every tracked child is dead.
 */
export class PowerLoss {
  readonly root: string;
  readonly journal: string;
  readonly #dir: string;
  readonly #ownsDir: boolean;
  readonly #model: PowerLossModel;

  constructor(options: PowerLossOptions) {
    this.root = resolve(options.root);
    this.#ownsDir = options.journalDir === undefined;
    this.#dir = options.journalDir ?? mkdtempSync(join(tmpdir(), 'faultline-power-'));
    mkdirSync(this.#dir, { recursive: true });
    this.journal = join(this.#dir, 'power-loss.jsonl');
    this.#model = new PowerLossModel(this.root);
    if (this.#model.covers(resolve(this.journal))) {
      throw new CrashError(
        'usage',
        `powerLoss: the journal ${this.journal} is inside the tracked root ${this.root}; pass a journalDir outside it`,
      );
    }
    this.#reset();
  }

  /** Env for a tracked Node child: the preload through NODE_OPTIONS, and where to journal. */
  env(base: string | undefined = process.env.NODE_OPTIONS): Record<string, string> {
    const url = pathToFileURL(powerLossPreloadPath).href;
    return {
      [POWER_LOSS_ENV]: JSON.stringify({ root: this.#model.root, journal: this.journal }),
      NODE_OPTIONS: `${base ?? ''} --import "${url}"`.trim(),
    };
  }

  /** The Node flags that load the preload (with `env()`'s FAULTLINE_POWER_LOSS, not its NODE_OPTIONS). */
  nodeArgs(): string[] {
    return ['--import', powerLossPreloadPath];
  }

  /** Operations journaled since the last cut, parsed (a torn last line is skipped). */
  #read(): JournalLine[] {
    let text: string;
    try {
      text = readFileSync(this.journal, 'utf8');
    } catch {
      return [];
    }
    const lines: JournalLine[] = [];
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      try {
        lines.push(JSON.parse(raw) as JournalLine);
      } catch {
        // a line cut by the kill: the operation it names never finished journaling
      }
    }
    return lines;
  }

  /**
   * Rewinds the tree to its durable state (every tracked child must be dead), records evidence of
   * what was lost and starts a fresh journal for the next wave.
   */
  cut(): PowerLossReport {
    for (const line of this.#read()) {
      if (line.op === 'fsync') {
        const data = readFileSync(line.blob);
        this.#model.apply({ op: 'fsync', path: line.path, ...(line.ino === undefined ? {} : { ino: line.ino }), data });
      } else this.#model.apply(line);
    }
    const report = this.#model.powerLoss();
    recordPowerLoss(report, '@faultline/crash');
    this.#reset();
    return report;
  }

  #reset(): void {
    rmSync(`${this.journal}.d`, { recursive: true, force: true });
    writeFileSync(this.journal, '');
  }

  /** Removes the journal (and its temp dir when it made one). */
  dispose(): void {
    rmSync(`${this.journal}.d`, { recursive: true, force: true });
    rmSync(this.#ownsDir ? this.#dir : this.journal, { recursive: true, force: true });
  }
}

/** Starts tracking `root` for power loss in the children spawned with it. */
export function powerLoss(options: PowerLossOptions): PowerLoss {
  return new PowerLoss(options);
}
