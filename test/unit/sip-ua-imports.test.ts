/**
 * The user-agent layer (src/sip/ua/) has no import cycle: the sessions reach the UA core through the narrow
 * InviteSessionHost interface (src/sip/ua/invite-session-host.ts), so the UserAgent, which creates Invitations, is imported by
 * nothing that it imports.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importCycles, importGraph } from '../support/import-graph.ts';

describe('imports of src/sip/ua', () => {
  it('the graph walker finds a cycle where there is one, and names its files in order', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts', 'outside.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(importCycles(graph), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    assert.deepEqual(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
  });

  it('reads the real sources: the UA core imports the dialog router and the sessions', () => {
    const graph = importGraph('src/sip/ua');
    assert.ok(graph.get('src/sip/ua/user-agent.ts')?.includes('src/sip/ua/invitation.ts'));
    assert.ok(graph.get('src/sip/ua/user-agent.ts')?.includes('src/sip/ua/dialog-router.ts'));
    assert.ok(graph.get('src/sip/ua/invite-session.ts')?.includes('src/sip/errors.ts'));
  });

  it('has no import cycle (type-only imports included)', () => {
    const cycles = importCycles(importGraph('src/sip/ua'));
    assert.deepEqual(cycles.map((c) => c.join(' → ')), []);
  });
});
