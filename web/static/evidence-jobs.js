// evidence-jobs.js: while an evidence report of the Evidence page is being generated, poll its
// status (GET /api/v1/evidence/reports/:id), show its stage and progress, and reload the page
// once every report shown as pending is done or failed, so its download link appears (with the
// "generated" notice when they all succeeded).
const cells = [...document.querySelectorAll("td.evidence-job[data-report]")];

async function poll() {
  let pending = 0;
  let failed = 0;
  for (const cell of cells) {
    const id = cell.dataset.report;
    let r;
    try {
      const res = await fetch(`/api/v1/evidence/reports/${encodeURIComponent(id)}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!res.ok) continue;
      r = await res.json();
    } catch {
      pending++;
      continue;
    }
    if (r.status === "failed") failed++;
    if (r.status === "queued" || r.status === "running") {
      pending++;
      const bar = cell.querySelector("progress");
      if (bar) bar.value = r.progress;
      const pct = cell.querySelector("[data-progress]");
      if (pct) pct.textContent = `${r.progress}%`;
      const stage = cell.querySelector("[data-stage]");
      if (stage && r.stage) stage.textContent = r.stage;
    }
  }
  if (pending === 0) {
    window.location.assign(failed === 0 ? "/evidence?notice=generated" : "/evidence");
    return;
  }
  setTimeout(poll, 1000);
}

if (cells.length > 0) setTimeout(poll, 500);
