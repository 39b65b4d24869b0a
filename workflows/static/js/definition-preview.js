// Live preview for the form-definition editor: 800 ms after typing stops, the
// YAML is posted to the preview address and the preview pane is replaced by
// the form as a unit would see it, or by the list of problems. Nothing is saved.
(function () {
  "use strict";
  var pane = document.getElementById("definition-preview");
  if (!pane) return;
  // The line-numbered source is its own scroll box: bring the first problem into it.
  function showFirstProblem() {
    var list = pane.querySelector("ol.source-lines");
    var bad = list && list.querySelector("li.bad");
    if (bad) list.scrollTop = Math.max(0, bad.offsetTop - list.offsetTop - 48);
  }
  showFirstProblem();
  var source = document.querySelector("textarea[data-live-preview]");
  if (!source || !window.fetch) return;
  var form = source.form;
  var url = form && form.getAttribute("data-preview-url");
  if (!url) return;
  var timer = null;
  var sequence = 0;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) return meta.getAttribute("content");
    var input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  // form-fill.js wires live show/hide to the first [data-form-root] when it
  // runs; run it again for the preview that was just swapped in.
  function rewireFill() {
    var original = document.getElementById("form-fill-script");
    if (!original || !pane.querySelector("[data-form-root]")) return;
    var again = document.createElement("script");
    again.src = original.src;
    again.setAttribute("data-rerun", "1");
    var previous = document.querySelector("script[data-rerun]");
    if (previous) previous.parentNode.removeChild(previous);
    document.body.appendChild(again);
  }

  function refresh() {
    var mine = ++sequence;
    var body = new URLSearchParams();
    body.append("source", source.value);
    pane.setAttribute("aria-busy", "true");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "X-Requested-With": "fetch"},
      body: body
    }).then(function (response) {
      // 422 carries the problem list: it is shown like a preview.
      if (!response.ok && response.status !== 422) throw new Error(String(response.status));
      return response.text();
    }).then(function (html) {
      if (mine !== sequence) return;  // a newer request is on its way
      pane.innerHTML = html;
      pane.setAttribute("aria-busy", "false");
      showFirstProblem();
      rewireFill();
    }).catch(function () {
      pane.setAttribute("aria-busy", "false");
    });
  }

  source.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 800);
  });

  // With scripts on, the Preview button refreshes in place instead of reloading the page.
  var button = form.querySelector("[data-preview-button]");
  if (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      refresh();
    });
  }
})();
