/** Reading callhook's /metrics in tests: one scrape with the admin token, and one series' value out of it. */
import type { RunningServer } from '../../src/server.ts';

export async function scrapeMetrics(server: Pick<RunningServer, 'adminUrl' | 'adminToken'>): Promise<string> {
  const response = await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  return response.text();
}

/** The value of one series, named as the text format writes it (`name{label="value",…}`); undefined when absent. */
export function sampleValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
