// The step timeline: one bar per denoising step, coloured compute vs reuse, its height the
// step's wall-clock time. Updated live while a generation runs.

export interface TimelineStep {
  i: number;
  decision: 'compute' | 'reuse';
  ms: number;
}

export interface Timeline {
  readonly element: HTMLElement;
  /** Start a new run of `steps` steps: empty placeholders, nothing measured yet. */
  reset(steps: number): void;
  add(step: TimelineStep): void;
  /** Steps recorded since the last reset, in order of arrival. */
  steps(): readonly TimelineStep[];
}

function formatMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/** Summary in words: also the accessible description of the chart. */
export function summarizeSteps(steps: readonly TimelineStep[]): string {
  if (steps.length === 0) return 'No steps yet.';
  const computed = steps.filter((s) => s.decision === 'compute');
  const reused = steps.length - computed.length;
  const mean = (xs: readonly TimelineStep[]) => xs.reduce((a, s) => a + s.ms, 0) / Math.max(1, xs.length);
  const total = steps.reduce((a, s) => a + s.ms, 0);
  const parts = [`${steps.length} steps: ${computed.length} computed, ${reused} reused`, `total ${formatMs(total)}`];
  if (computed.length > 0) parts.push(`compute ≈ ${formatMs(mean(computed))}/step`);
  if (reused > 0) parts.push(`reuse ≈ ${formatMs(mean(steps.filter((s) => s.decision === 'reuse')))}/step`);
  return parts.join(' · ');
}

export function createTimeline(): Timeline {
  const element = document.createElement('figure');
  element.className = 'timeline';
  const bars = document.createElement('ol');
  bars.className = 'timeline-bars';
  bars.setAttribute('aria-label', 'Per-step decisions and times');
  const caption = document.createElement('figcaption');
  caption.className = 'timeline-summary';
  caption.textContent = 'Run a generation to see which steps are computed and which reused.';
  element.append(bars, caption);
  let recorded: TimelineStep[] = [];

  const rescale = () => {
    const max = Math.max(1e-6, ...recorded.map((s) => s.ms));
    for (const s of recorded) {
      const bar = bars.children[s.i] as HTMLElement | undefined;
      if (bar) bar.style.setProperty('--h', `${Math.max(4, (100 * s.ms) / max)}%`);
    }
  };

  return {
    element,
    reset(steps) {
      recorded = [];
      bars.replaceChildren();
      for (let i = 0; i < steps; i++) {
        const li = document.createElement('li');
        li.className = 'step pending';
        li.setAttribute('aria-label', `step ${i + 1}: pending`);
        bars.append(li);
      }
      caption.textContent = summarizeSteps(recorded);
    },
    add(step) {
      recorded.push(step);
      let bar = bars.children[step.i] as HTMLElement | undefined;
      if (bar === undefined) { // more steps than announced: grow rather than drop data
        bar = document.createElement('li');
        bars.append(bar);
      }
      bar.className = `step ${step.decision}`;
      bar.dataset.decision = step.decision;
      bar.dataset.ms = step.ms.toFixed(3);
      const text = `step ${step.i + 1}: ${step.decision}, ${formatMs(step.ms)}`;
      bar.title = text;
      bar.setAttribute('aria-label', text);
      rescale();
      caption.textContent = summarizeSteps(recorded);
    },
    steps: () => recorded,
  };
}
