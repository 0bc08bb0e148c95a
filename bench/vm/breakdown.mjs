// Where the time of a vm:run goes, from the records PROVIUM_TRACE_CALLS wrote
// (runner/src/worker/runtime/call-trace.ts): host marks in ms (performance.now()
// of the worker thread) and the agent's own timeline in ns of the guest's clock.
// Only back-to-back calls count: a run of `command` whose previous record is one too,
// so that the time from the previous call's return to this one's start is the Lua
// loop's and the binding's.

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Per-call phases in ms (arrays of samples), from the JSON-lines text of the trace file. */
export function phases(traceText, command) {
  const records = traceText.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const out = { total: [], lua: [], worker: [], codec: [], transit: [], agentOwn: [], command: [] };
  for (let i = 1; i < records.length; i++) {
    const [prev, r] = [records[i - 1], records[i]];
    const ours = (x) => x.label === 'vm:run' && x.command === command && x.exec?.agent && x.marks.returned !== undefined;
    if (!ours(prev) || !ours(r)) continue;
    const m = r.marks;
    const e = r.exec;
    const a = e.agent;
    const agentMs = (a.prep_ns + a.spawn_ns + a.wait_ns + a.reply_ns) / 1e6;
    out.total.push(m.returned - prev.marks.returned);
    // Lua: the loop and fengari's call into the binding (argument checks, conversion), then the result back to Lua.
    out.lua.push(m.impl - prev.marks.returned + (m.returned - m.resumed));
    // The worker's JS: the implementation up to the client, the promise chain back, the driver's resume.
    out.worker.push(e.send - m.impl + (m.resolved - e.decoded) + (m.resumed - m.resolved));
    out.codec.push(e.encoded - e.send + (e.decoded - e.arrived));
    out.transit.push(e.arrived - e.encoded - agentMs);
    out.agentOwn.push((a.prep_ns + a.reply_ns) / 1e6);
    out.command.push((a.spawn_ns + a.wait_ns) / 1e6);
  }
  return out;
}

/** Medians of each phase over runs: { phase: ms }. */
export function medians(runs) {
  const keys = Object.keys(runs[0]);
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((p) => median(p[k])))]));
}

/** The lines bench:vm prints. */
export function report(m, guestSpawnMs, samples) {
  const f = (x) => x.toFixed(3).padStart(7);
  return [
    `where a vm:run("true") goes (medians over ${samples} back-to-back calls per run, median of runs):`,
    `  Lua loop + binding (fengari ⇄ JS, arguments, result)  ${f(m.lua)} ms`,
    `  worker thread (promise hops, driver resume)           ${f(m.worker)} ms`,
    `  codec (encode request, frame + decode answer)         ${f(m.codec)} ms`,
    `  socket + virtio-serial, both ways, and QEMU           ${f(m.transit)} ms`,
    `  agent's own work (argv, env, pipes; output, answer)   ${f(m.agentOwn)} ms`,
    `  the command: vfork → exit taken up by the agent       ${f(m.command)} ms   (the guest alone: ${guestSpawnMs.toFixed(3)} ms)`,
    `  one call, start to start                              ${f(m.total)} ms`,
  ];
}
