/**
 * The timeline as a ladder diagram in SVG, the way a packet capture's flow graph draws one: four columns — the
 * browser, callhook, the app's web server (hooks) and the SIP peer — and one row per step, an arrow between
 * callhook and the lane's party (media states sit on the browser ⇄ callhook leg, dashed). Each row shows the time,
 * the gap to the previous step, the method or status, and for a failed step, in red, why. Styles are attributes,
 * not CSS, so the exported file looks the same anywhere.
 */
import type { TimelineStep, TimelineView } from './types.ts';

const SVG = 'http://www.w3.org/2000/svg';
const COLUMNS = { browser: 190, callhook: 390, hooks: 590, sip: 790 } as const;
const WIDTH = 900;
const TOP = 56;
const ROW = 40;
const RED = '#c62828';
const INK = '#1f2933';
const MUTED = '#52606d';
const LANE_COLOUR = { browser: '#1565c0', hooks: '#6a1b9a', sip: '#2e7d32', media: '#ef6c00' } as const;

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function clock(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Where a step's arrow starts and ends. */
function ends(s: TimelineStep): [number, number] {
  const party = s.lane === 'media' ? COLUMNS.browser : COLUMNS[s.lane];
  return s.direction === 'in' ? [party, COLUMNS.callhook] : [COLUMNS.callhook, party];
}

/** A step's label, with the count of a folded registration refresh round (`REGISTER ×12`). */
export function stepLabel(s: TimelineStep): string {
  return s.repeats ? `${s.label} ×${s.repeats.count}` : s.label;
}

export function ladder(view: TimelineView, onSelect: (step: TimelineStep) => void): SVGSVGElement {
  const height = TOP + view.timeline.length * ROW + 20;
  const svg = el('svg', { xmlns: SVG, viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, 'font-family': 'system-ui, sans-serif', 'font-size': 13 });
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Ladder diagram of session ${view.sessionId}: ${view.timeline.length} steps`);
  svg.appendChild(el('rect', { x: 0, y: 0, width: WIDTH, height, fill: '#ffffff' }));
  const defs = el('defs', {});
  for (const [name, colour] of [...Object.entries(LANE_COLOUR), ['failed', RED]] as const) {
    const marker = el('marker', { id: `arrow-${name}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(el('path', { d: 'M0,0 L10,5 L0,10 z', fill: colour }));
    defs.appendChild(marker);
  }
  svg.appendChild(defs);
  const heads: [keyof typeof COLUMNS, string][] = [['browser', 'Browser'], ['callhook', 'callhook'], ['hooks', 'Web server (hooks)'], ['sip', 'SIP peer']];
  svg.appendChild(el('text', { x: 8, y: 24, fill: MUTED, 'font-weight': 600 }, 'time (+gap)'));
  for (const [key, name] of heads) {
    svg.appendChild(el('text', { x: COLUMNS[key], y: 24, 'text-anchor': 'middle', 'font-weight': 700, fill: INK }, name));
    svg.appendChild(el('line', { x1: COLUMNS[key], y1: 34, x2: COLUMNS[key], y2: height - 10, stroke: '#9aa5b1', 'stroke-width': 1.5 }));
  }
  view.timeline.forEach((s, i) => {
    const y = TOP + i * ROW + 22;
    const colour = s.failed ? RED : LANE_COLOUR[s.lane];
    const g = el('g', { tabindex: 0, role: 'button', 'data-seq': s.seq, cursor: 'pointer' });
    g.setAttribute('aria-label', `${clock(s.time)} ${s.lane} ${stepLabel(s)}${s.detail ? `: ${s.detail}` : ''}${s.failed ? ' (failed)' : ''}`);
    const repeats = s.repeats && `the same exchange ${s.repeats.count} times since ${clock(s.repeats.since)}, this the latest`;
    g.appendChild(el('title', {}, [s.label, s.detail, s.peer && `peer ${s.peer}`, repeats].filter(Boolean).join('\n')));
    g.appendChild(el('rect', { x: 0, y: y - 24, width: WIDTH, height: ROW, fill: s.failed ? '#fdecea' : i % 2 === 0 ? '#f7f9fb' : '#ffffff' }));
    g.appendChild(el('text', { x: 8, y: y - 4, fill: MUTED, 'font-size': 12 }, clock(s.time)));
    g.appendChild(el('text', { x: 8, y: y + 11, fill: MUTED, 'font-size': 11 }, i === 0 ? '' : `+${s.gapMs} ms`));
    const [from, to] = ends(s);
    const line = el('line', { x1: from, y1: y, x2: to, y2: y, stroke: colour, 'stroke-width': 2, 'marker-end': `url(#arrow-${s.failed ? 'failed' : s.lane})` });
    if (s.lane === 'media') {
      line.setAttribute('stroke-dasharray', '5 4');
      line.removeAttribute('marker-end');
    }
    g.appendChild(line);
    const mid = (from + to) / 2;
    g.appendChild(el('text', { x: mid, y: y - 6, 'text-anchor': 'middle', fill: colour, 'font-weight': 600 }, stepLabel(s)));
    if (s.failed && s.detail) {
      const reason = s.detail.length > 60 ? `${s.detail.slice(0, 57)}…` : s.detail;
      g.appendChild(el('text', { x: mid, y: y + 15, 'text-anchor': 'middle', fill: RED, 'font-size': 12 }, reason));
    }
    g.addEventListener('click', () => onSelect(s));
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        onSelect(s);
      }
    });
    svg.appendChild(g);
  });
  return svg;
}

/** The ladder as a standalone SVG file. */
export function svgFile(svg: SVGSVGElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(svg)}\n`;
}

/**
 * The ladder as a PNG file of its own size: the standalone SVG drawn onto a canvas. It holds no foreign content or
 * outside references, so the canvas stays readable (not tainted) and toBlob works.
 */
export async function pngFile(svg: SVGSVGElement): Promise<Blob> {
  const width = Number(svg.getAttribute('width'));
  const height = Number(svg.getAttribute('height'));
  const url = URL.createObjectURL(new Blob([svgFile(svg)], { type: 'image/svg+xml' }));
  try {
    const image = new Image(width, height);
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')!.drawImage(image, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob === null ? reject(new Error('the browser could not make a PNG of the diagram')) : resolve(blob)), 'image/png'),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}
