/**
 * Audio through the calls of the comparison kit: every call sends one 160-byte G.711 packet per 20 ms (50 pps, one
 * timer for all calls); sipp's `-rtp_echo` sends it back through the server. The first 8 bytes of a payload carry
 * its send time, so a measuring window counts the packets sent while it was open and the echoes of exactly those.
 */
import type { EchoCall } from './servers.ts';

const FRAME_BYTES = 160;
const TICK_MS = 20;

export interface EchoWindow {
  start: number;
  end: number;
  sent: number;
  echoed: number;
}

export class EchoMeter {
  private readonly calls: Array<{ call: EchoCall; seq: number }> = [];
  private window: EchoWindow | undefined;
  private ticker: NodeJS.Timeout | undefined;

  add(call: EchoCall): void {
    this.calls.push({ call, seq: 0 });
    call.peer.onRtp((r) => {
      // The peer keeps every packet it received; the meter needs only its counters.
      call.peer.received.length = 0;
      const w = this.window;
      if (w === undefined || r.payload.length < 8) return;
      const sentAt = r.payload.readDoubleLE(0);
      if (sentAt >= w.start && sentAt <= w.end) w.echoed++;
    });
  }

  start(): void {
    this.ticker ??= setInterval(() => {
      const now = performance.now();
      const w = this.window;
      for (const c of this.calls) {
        const payload = Buffer.alloc(FRAME_BYTES, 0xff);
        payload.writeDoubleLE(now, 0);
        const seq = c.seq++;
        c.call.peer.send(c.call.payloadType, seq & 0xffff, (seq * FRAME_BYTES) >>> 0, payload);
        if (w !== undefined && w.end === Infinity) w.sent++;
      }
    }, TICK_MS);
  }

  openWindow(): void {
    this.window = { start: performance.now(), end: Infinity, sent: 0, echoed: 0 };
  }

  /** Ends the window and waits `drainMs` for the echoes of its last packets (any later one counts as lost). */
  async closeWindow(drainMs: number): Promise<EchoWindow> {
    const w = this.window!;
    w.end = performance.now();
    await new Promise((r) => setTimeout(r, drainMs));
    this.window = undefined;
    return w;
  }

  /** Stops the audio and hangs every call up. */
  async hangUpAll(): Promise<void> {
    clearInterval(this.ticker);
    this.ticker = undefined;
    const calls = this.calls.splice(0);
    await Promise.all(calls.map((c) => c.call.hangup().catch(() => undefined)));
  }
}
