/**
 * Where the sample backend keeps the events callhook reports: one JSON object per line in a file (JSON Lines),
 * appended before the hook is answered, so an event callhook was told "200" about is on disk. callhook delivers
 * events at least once (docs/hooks.md "Events"): an `eventId` seen before is answered 200 again
 * but stored once.
 */
import { appendFile, readFile } from 'node:fs/promises';

export interface StoredEvent {
  /** callhook's id of the event (unique; the same on a redelivery). */
  eventId: string;
  /** The hook method: CallStatusEvent, RegistrationStatusEvent, … */
  method: string;
  /** When this backend received it (ms since the epoch). */
  receivedAt: number;
  /** The hook body as received. */
  body: Record<string, unknown>;
}

export class EventStore {
  private readonly events: StoredEvent[] = [];
  private readonly ids = new Set<string>();
  /** Appends run one after another, so the file's order is the order of `events`. */
  private tail: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  /** Opens `file`, reading the events already in it (a missing file is an empty store). */
  static async open(file: string): Promise<EventStore> {
    const store = new EventStore(file);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let event: StoredEvent;
      try {
        event = JSON.parse(line) as StoredEvent;
      } catch (err) {
        throw new Error(`${file}:${i + 1} is not JSON: ${(err as Error).message}`);
      }
      store.events.push(event);
      store.ids.add(event.eventId);
    });
    return store;
  }

  /** Stores the event unless its eventId is known; resolves with false for a duplicate. */
  add(event: StoredEvent): Promise<boolean> {
    if (this.ids.has(event.eventId)) return Promise.resolve(false);
    this.ids.add(event.eventId);
    this.events.push(event);
    const written = this.tail.then(() => appendFile(this.file, `${JSON.stringify(event)}\n`));
    this.tail = written.catch(() => undefined);
    return written.then(
      () => true,
      (err: unknown) => {
        // Not on disk: forget it, so callhook's retry is stored rather than skipped as a duplicate.
        this.ids.delete(event.eventId);
        this.events.splice(this.events.indexOf(event), 1);
        throw err;
      },
    );
  }

  list(method?: string): StoredEvent[] {
    return method === undefined ? [...this.events] : this.events.filter((e) => e.method === method);
  }
}
