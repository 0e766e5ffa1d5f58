// Live progress of a round (web/rounds/detail.html): polls progress.json every 2 s while the round is queued or
// running and updates the jobs table in place; reloads once when the round ends (results and downloads).
(function () {
  "use strict";
  var table = document.getElementById("round-jobs");
  if (!table) { return; }
  var url = table.getAttribute("data-progress-url");
  var active = table.getAttribute("data-active") === "1";
  var statusEl = document.getElementById("round-status");
  var bar = document.getElementById("round-bar");
  var finished = document.getElementById("round-finished");
  var STATES = ["queued", "running", "done", "could_not_check", "failed"];
  var STATUSES = ["pending", "queued", "running", "done", "failed", "interrupted", "cancelled"];

  function setBadge(el, cls, list, text) {
    list.forEach(function (c) { el.classList.remove(c); });
    el.classList.add(cls);
    el.textContent = text;
  }

  function update(data) {
    var rows = {};
    table.querySelectorAll("tbody tr[data-job]").forEach(function (tr) { rows[tr.getAttribute("data-job")] = tr; });
    var missing = false;
    data.jobs.forEach(function (j) {
      var tr = rows[String(j.id)];
      if (!tr) { missing = true; return; }
      setBadge(tr.querySelector('[data-field="state"]'), j.state, STATES, j.state_display);
      tr.querySelector('[data-field="pages"]').textContent = j.pages === "" ? "" : String(j.pages);
      tr.querySelector('[data-field="verdict"]').textContent = j.verdict;
      tr.querySelector('[data-field="reason"]').textContent = j.reason;
    });
    if (statusEl) { setBadge(statusEl, data.status, STATUSES, data.status_display); }
    if (bar) { bar.max = Math.max(1, data.summary.total); bar.value = data.summary.finished; }
    if (finished) { finished.textContent = data.summary.finished + "/" + data.summary.total; }
    var missingRunner = document.getElementById("runner-missing");
    if (missingRunner) { missingRunner.hidden = !data.runner_missing; }
    return missing;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (data) {
        var missing = update(data);
        if (missing || (active && !data.active)) { window.location.reload(); return; }
        active = data.active;
        if (active) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  if (active) { window.setTimeout(poll, 2000); }
})();
