// integrity.js: while a verification of the audit chain runs, poll its progress
// (GET /api/v1/audit/verifications/:id), show events checked of the total, and reload the
// Integrity page with its result once it is done.
const box = document.querySelector("#verification[data-job][data-running]");

async function poll() {
  const id = box.dataset.job;
  try {
    const res = await fetch(`/api/v1/audit/verifications/${encodeURIComponent(id)}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (res.ok) {
      const j = await res.json();
      const bar = document.getElementById("verify-progress");
      if (bar) {
        bar.max = Math.max(j.total, 1);
        bar.value = j.checked;
        bar.textContent = `${j.percent}%`;
      }
      const count = document.getElementById("verify-count");
      if (count) count.textContent = `${j.checked} of ${j.total} events checked (${j.percent}%).`;
      if (j.status !== "running") {
        window.location.assign(`/integrity?job=${encodeURIComponent(id)}`);
        return;
      }
    }
  } catch {
    // A failed poll is retried.
  }
  setTimeout(poll, 500);
}

if (box) setTimeout(poll, 300);
