/* A background import's page: poll its progress and move the bar; when it finishes, go to
   its result (the preview, or the import run). Without JavaScript the page reloads itself. */
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box) return;
  var url = box.getAttribute("data-progress-url");
  var every = parseInt(box.getAttribute("data-refresh-ms"), 10) || 2000;
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var status = document.getElementById("job-status");
  var names = ["rows_read", "rows_checked", "rows_matched", "rows_written"];

  function show(job) {
    if (job.bar.max) {
      bar.max = job.bar.max;
      bar.value = job.bar.value;
      bar.textContent = job.bar.percent + "%";
      percent.textContent = job.bar.percent + "%";
    } else {
      bar.removeAttribute("value");
      percent.textContent = "";
    }
    if (status.textContent !== job.status) status.textContent = job.status;
    names.forEach(function (name) {
      var cell = document.getElementById("job-" + name);
      if (cell && !(job.kind === "preview" && name === "rows_written")) {
        cell.textContent = job[name].toLocaleString("en-GB");
      }
    });
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (answer) {
        if (!answer.ok) throw new Error(answer.status);
        return answer.json();
      })
      .then(function (job) {
        show(job);
        if (job.finished) {
          window.location.assign(job.result_url || window.location.href);
        } else {
          window.setTimeout(poll, every);
        }
      })
      .catch(function () { window.setTimeout(poll, every * 2); });
  }
  window.setTimeout(poll, every / 2);
})();
