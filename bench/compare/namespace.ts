/**
 * The comparison kit's private network: a new network namespace (`unshare -n`, so nothing of the machine's network
 * is seen or touched) with loopback up and a veth pair whose two ends stay in it: the servers' ICE on one end
 * (Janus leaves loopback out of its host candidates), the browsers on the other. Kamailio, sipp and the SIP legs
 * stay on 127.0.0.1.
 *
 * Both ends' addresses are local, but libnice sends out of the interface it gathered on, so a packet from one end
 * arrives on the other with a local source address: `accept_local` (and no reverse-path filter) lets it in.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export const SERVER_INTERFACE = 'veth0';
export const SERVER_ADDRESS = '10.88.0.1';
export const BROWSER_INTERFACE = 'veth1';
export const BROWSER_ADDRESS = '10.88.0.2';
/** Set in the re-executed process: it runs inside the namespace (not CALLHOOK_…: callhook reads those as settings). */
const INSIDE = 'COMPARE_KIT_NETNS';

const SETUP = [
  'set -e',
  'ip link set lo up',
  `ip link add ${SERVER_INTERFACE} type veth peer name ${BROWSER_INTERFACE}`,
  `ip addr add ${SERVER_ADDRESS}/24 dev ${SERVER_INTERFACE}`,
  `ip addr add ${BROWSER_ADDRESS}/24 dev ${BROWSER_INTERFACE}`,
  `ip link set ${SERVER_INTERFACE} up`,
  `ip link set ${BROWSER_INTERFACE} up`,
  `for i in all ${SERVER_INTERFACE} ${BROWSER_INTERFACE}; do sysctl -qw net.ipv4.conf.$i.accept_local=1 net.ipv4.conf.$i.rp_filter=0; done`,
  'exec "$@"',
].join('\n');

/**
 * In the namespace already: returns. Otherwise runs this same script (same Node flags and arguments) inside a new
 * one and exits with its code. As root, a network namespace alone; otherwise in a user namespace too (`-r`, the
 * user mapped to root there), where unprivileged user namespaces are allowed.
 */
export function enterNamespace(): void {
  if (process.env[INSIDE] === '1') return;
  try {
    execFileSync('unshare', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('the comparison kit needs `unshare` (util-linux) and `ip` (iproute2)');
  }
  const r = spawnSync('unshare', [...(process.getuid?.() === 0 ? [] : ['-r']), '-n', '--', 'sh', '-c', SETUP, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [INSIDE]: '1' },
  });
  process.exit(r.status ?? 1);
}
