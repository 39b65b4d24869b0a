// Polls a job's status and updates the page until the job has finished.
(function () {
  var box = document.getElementById("job");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  function part(name) { return box.querySelector('[data-field="' + name + '"]'); }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        part("state_label").textContent = s.state_label;
        part("progress").value = s.progress;
        part("percent").textContent = String(s.progress);
        var error = part("error");
        error.hidden = !s.error;
        error.textContent = s.error || "";
        var download = part("download");
        if (s.download_url) {
          download.hidden = false;
          download.querySelector("a").href = s.download_url;
        }
        if (s.state !== "done" && s.state !== "failed") setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
