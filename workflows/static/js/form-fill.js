// Live show/hide and roster rows for a definition's form. The server decides
// again on submit; this only spares people fields that do not apply to them.
(function () {
  "use strict";
  var root = document.querySelector("form[data-form-root], [data-form-root]");
  if (!root) return;
  var modelNode = root.querySelector("script[data-expression-trees]");
  if (!modelNode) return;
  var model = JSON.parse(modelNode.textContent);
  var today = new Date().toISOString().slice(0, 10);

  function typed(type, raw) {
    if (raw === null || raw === undefined) return null;
    raw = String(raw).trim();
    if (raw === "") return null;
    if (type === "integer" || type === "decimal") {
      var n = Number(raw);
      return isNaN(n) ? null : n;
    }
    if (type === "boolean") return raw === "1" ? true : raw === "0" ? false : null;
    if (type === "id_card") return raw.toUpperCase();
    return raw;
  }

  function fieldValue(name, type) {
    var inputs = root.querySelectorAll('[name="' + name + '"]');
    if (type === "multi_choice") {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked || i.selected; })
        .map(function (i) { return i.value; });
    }
    if (type === "image" || type === "file") {
      var kept = root.querySelectorAll('[name="' + name + '-keep"]:checked').length;
      var chosen = 0;
      Array.prototype.forEach.call(inputs, function (i) { chosen += i.files ? i.files.length : 0; });
      return new Array(kept + chosen).fill("file");
    }
    for (var k = 0; k < inputs.length; k++) {
      var input = inputs[k];
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) return typed(type, input.value);
      } else {
        return typed(type, input.value);
      }
    }
    return null;
  }

  function rowsByIndex(name, columns) {
    var rows = {};
    var pattern = new RegExp("^" + name + "-(\\d+)-(\\w+)$");
    Array.prototype.forEach.call(root.querySelectorAll('[name^="' + name + '-"]'), function (input) {
      var m = pattern.exec(input.name);
      if (!m) return;
      var row = rows[m[1]] = rows[m[1]] || {};
      if (m[2] === "delete") { if (input.checked) row.__deleted = true; return; }
      if (!(m[2] in columns)) return;
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      row[m[2]] = typed(columns[m[2]], input.value);
    });
    return rows;
  }

  function rowsValue(name, columns) {
    var rows = rowsByIndex(name, columns);
    return Object.keys(rows).sort(function (a, b) { return a - b; })
      .map(function (k) { return rows[k]; })
      .filter(function (r) { return !r.__deleted; });
  }

  // A column's visible_if is evaluated per row, with row.x bound to that row.
  function showColumns(current) {
    Object.keys(model.trees).forEach(function (path) {
      var parts = path.split("[].");
      if (parts.length !== 2) return;
      var rows = rowsByIndex(parts[0], model.columns[parts[0]] || {});
      Object.keys(rows).forEach(function (index) {
        var input = root.querySelector('[name="' + parts[0] + "-" + index + "-" + parts[1] + '"]');
        if (!input) return;
        var shown = WenmingExpressions.isTruthy(
          WenmingExpressions.evaluate(model.trees[path], current, { row: rows[index], today: today }));
        input.closest("td").style.visibility = shown ? "" : "hidden";
      });
    });
  }

  function values() {
    var out = {};
    Object.keys(model.types).forEach(function (name) {
      var type = model.types[name];
      if (type === "note" || type === "calculate") return;
      out[name] = type === "repeat" ? rowsValue(name, model.columns[name] || {}) : fieldValue(name, type);
    });
    return out;
  }

  function showCalculations(current) {
    (model.calcs || []).forEach(function (pair) {
      var value = WenmingExpressions.evaluate(pair[1], current, { today: today });
      current[pair[0]] = value;
      var input = root.querySelector('[name="' + pair[0] + '"]');
      if (input) input.value = value === null || value === undefined ? "" : String(value);
    });
  }

  function filterChoices(current) {
    Object.keys(model.filters || {}).forEach(function (name) {
      var filter = model.filters[name];
      Array.prototype.forEach.call(root.querySelectorAll('[name="' + name + '"]'), function (input) {
        var options = input.tagName === "SELECT" ? input.options : [input];
        Array.prototype.forEach.call(options, function (option) {
          var attrs = filter.items[option.value];
          if (!attrs) return;
          var fits = Object.keys(filter.rule).every(function (attr) {
            return attrs[attr] === current[filter.rule[attr]];
          });
          option.hidden = !fits;
          option.disabled = !fits;
          if (input.tagName !== "SELECT" && input.parentNode) input.parentNode.hidden = !fits;
          if (!fits && (option.selected || option.checked)) { option.selected = false; option.checked = false; }
        });
      });
    });
  }

  // Choices from data (campaigns) are offered while the date they follow is inside their window.
  function filterWindows(current) {
    Object.keys(model.windows || {}).forEach(function (name) {
      var rule = model.windows[name];
      var day = current[rule.on] || today;
      Array.prototype.forEach.call(root.querySelectorAll('[name="' + name + '"]'), function (input) {
        var options = input.tagName === "SELECT" ? input.options : [input];
        Array.prototype.forEach.call(options, function (option) {
          var spans = rule.items[option.value];
          if (!spans) return;
          var fits = typeof day === "string" && spans.some(function (span) { return span[0] <= day && day <= span[1]; });
          option.hidden = !fits;
          option.disabled = !fits;
          if (input.tagName !== "SELECT" && input.parentNode) input.parentNode.hidden = !fits;
          if (!fits && (option.selected || option.checked)) { option.selected = false; option.checked = false; }
        });
      });
    });
  }

  function refresh() {
    var current = values();
    showCalculations(current);
    filterChoices(current);
    filterWindows(current);
    showColumns(current);
    Object.keys(model.trees).forEach(function (path) {
      var wrap = root.querySelector('[data-visible-if="' + path + '"]');
      if (!wrap) return;
      var shown = WenmingExpressions.isTruthy(WenmingExpressions.evaluate(model.trees[path], current, { today: today }));
      wrap.hidden = !shown;
      // A hidden field is dropped by the server anyway; hiding it keeps what was typed.
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-row-count]"), function (node) {
      var name = node.getAttribute("data-row-count");
      node.textContent = (document.documentElement.lang === "en" ? "Rows: " : "共 ") +
        rowsValue(name, model.columns[name] || {}).length + (document.documentElement.lang === "en" ? "" : " 行");
    });
  }

  function addRow(name) {
    var template = root.querySelector('template[data-row-template="' + name + '"]');
    var body = root.querySelector('[data-repeat="' + name + '"] tbody');
    var max = Number(root.querySelector('[data-repeat="' + name + '"]').getAttribute("data-max-rows"));
    var next = -1;
    Array.prototype.forEach.call(body.querySelectorAll("[name]"), function (input) {
      var m = new RegExp("^" + name + "-(\\d+)-").exec(input.name);
      if (m) next = Math.max(next, Number(m[1]));
    });
    if (body.querySelectorAll("tr[data-row]").length >= max) return;
    next += 1;
    var html = template.innerHTML.split("__index__").join(String(next));
    body.insertAdjacentHTML("beforeend", html);
    var rows = body.querySelectorAll("tr[data-row]");
    var added = rows[rows.length - 1];
    added.querySelector(".row-no").textContent = String(rows.length);
    var first = added.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    event.preventDefault();
    addRow(button.getAttribute("data-add-row"));
    refresh();
  });
  // Whether a typed ID number is a volunteer registered with this unit (asked once per number).
  var lookupUrl = root.getAttribute("data-person-lookup");
  var known = {};
  function markPerson(input) {
    var m = /^(\w+)-(\d+)-(\w+)$/.exec(input.name || "");
    if (!lookupUrl || !m || (model.columns[m[1]] || {})[m[3]] !== "id_card") return;
    var mark = input.closest("td") && input.closest("td").querySelector("[data-person-mark]");
    if (!mark) return;
    var number = input.value.trim().toUpperCase();
    var en = document.documentElement.lang === "en";
    function show(answer) {
      mark.textContent = "";
      if (!answer || !answer.valid) return;
      if (answer.registered) {
        mark.textContent = (en ? "Registered" : "已登记") + " · " + answer.name + " · " + answer.number;
      } else {
        var span = document.createElement("span");
        span.className = "muted";
        span.textContent = en ? "Not registered yet" : "未登记（认证时登记）";
        mark.appendChild(span);
      }
    }
    if (number.length !== 18) { show(null); return; }
    if (known[number]) { show(known[number]); return; }
    var token = root.querySelector('input[name="csrf_token"]');
    fetch(lookupUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify({ unit: Number(root.getAttribute("data-unit")), number: number })
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) { if (answer) known[number] = answer; show(answer); })
      .catch(function () { show(null); });
  }

  root.addEventListener("change", function (event) {
    markPerson(event.target);
    if (event.target.matches("[data-remove-row]")) {
      event.target.closest("tr").classList.toggle("row-removed", event.target.checked);
    }
    refresh();
  });
  var pending = false;
  root.addEventListener("input", function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; refresh(); });
  });
  refresh();

  // Files are checked as they are chosen, and large photos made smaller in the page, so a phone photo
  // of 12 MB is sent as one the form accepts. The server checks and re-encodes every upload again.
  function say(input, text, isError) {
    var node = document.getElementById(input.getAttribute("data-message"));
    if (!node) return;
    node.textContent = text || "";
    node.className = "file-message small" + (isError ? " error" : "");
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }

  function megabytes(size) {
    return size >= 1048576 ? (size / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(size / 1024)) + " KB";
  }

  function accepted(input, file) {
    var extension = (file.name.split(".").pop() || "").toLowerCase();
    var tokens = (input.getAttribute("accept") || "").split(",").map(function (t) { return t.trim().toLowerCase(); });
    return tokens.indexOf("." + extension) >= 0 || (extension === "jpeg" && tokens.indexOf(".jpg") >= 0);
  }

  function canvasBlob(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  // Longest side at most maxSide; JPEG quality stepped down, then the side, until under maxSize.
  function shrink(file, maxSide, maxSize) {
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var side = Math.min(maxSide, Math.max(bitmap.width, bitmap.height));
      var quality = 0.9;
      function attempt() {
        var scale = side / Math.max(bitmap.width, bitmap.height);
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        var context = canvas.getContext("2d");
        context.fillStyle = "#fff";  // a transparent PNG becomes a JPEG on white, not on black
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return canvasBlob(canvas, quality).then(function (blob) {
          if (blob && blob.size <= maxSize) return blob;
          if (quality > 0.5) quality -= 0.1; else { side = Math.round(side * 0.8); quality = 0.8; }
          if (side < 320) return null;
          return attempt();
        });
      }
      return attempt();
    }).then(function (blob) {
      if (!blob) return null;
      var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      return new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified });
    }).catch(function () { return null; });  // a format the browser cannot draw: the server decides
  }

  function checkFiles(input) {
    var files = Array.prototype.slice.call(input.files || []);
    var maxSize = Number(input.getAttribute("data-max-size"));
    var maxFiles = Number(input.getAttribute("data-max-files"));
    var maxSide = Number(input.getAttribute("data-max-side") || 0);
    var canJpeg = accepted(input, { name: "x.jpg" });
    say(input, "");
    input.removeAttribute("data-refused");
    if (!files.length) return Promise.resolve();
    var problems = [];
    if (maxFiles && files.length > maxFiles) problems.push(input.getAttribute("data-msg-count"));
    files.forEach(function (file) {
      if (!accepted(input, file)) problems.push(fill(input.getAttribute("data-msg-type"), { name: file.name }));
    });
    if (problems.length) {
      say(input, problems.join(" "), true);
      input.setAttribute("data-refused", "1");
      return Promise.resolve();
    }
    var work = files.map(function (file) {
      var large = file.size > maxSize;
      if (!maxSide || !canJpeg || !/^image\/(jpeg|png|webp)$/.test(file.type) || !large) {
        return Promise.resolve({ file: file, before: null, large: large });
      }
      say(input, fill(input.getAttribute("data-msg-shrinking"), { name: file.name }));
      return shrink(file, maxSide, maxSize).then(function (smaller) {
        return smaller ? { file: smaller, before: file } : { file: file, before: null, large: true };
      });
    });
    input.setAttribute("data-busy", "1");
    return Promise.all(work).then(function (results) {
      input.removeAttribute("data-busy");
      var told = [];
      var transfer = new DataTransfer();
      results.forEach(function (r) {
        transfer.items.add(r.file);
        if (r.before) {
          told.push(fill(input.getAttribute("data-msg-shrunk"),
            { name: r.before.name, before: megabytes(r.before.size), after: megabytes(r.file.size) }));
        }
      });
      input.files = transfer.files;
      var tooLarge = results.filter(function (r) { return r.large; }).map(function (r) {
        return fill(input.getAttribute("data-msg-size"), { name: r.file.name });
      });
      if (tooLarge.length) {
        input.setAttribute("data-refused", "1");
        say(input, tooLarge.concat(told).join(" "), true);
      } else {
        say(input, told.join(" "));
      }
    });
  }

  root.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-max-size]")) checkFiles(event.target);
  });

  // A form with files is sent by the page, so it can say how much has gone ("正在上传 40%"); the answer
  // is then followed as the browser would: a redirect (told in X-Location, so its message is not spent
  // on a hidden request) is navigated to, any other page replaces this one. Without files, or without
  // the script, the browser posts the form itself.
  var status = document.getElementById("upload-status");

  function sendWithProgress(submitter, sending) {
    var label = status.querySelector("[data-upload-label]");
    var bar = status.querySelector("[data-upload-progress]");
    var announce = status.querySelector("[data-upload-announce]");
    var buttons = Array.prototype.slice.call(root.querySelectorAll("button[type=submit], button:not([type])"));
    var told = -1;
    function show(percent) {
      bar.value = percent;
      label.textContent = fill(status.getAttribute("data-msg-percent"), { percent: percent });
      var step = percent === 100 ? 100 : Math.floor(percent / 25) * 25;  // a screen reader hears quarters
      if (step !== told) { told = step; announce.textContent = label.textContent; }
    }
    var data = new FormData(root);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    // Not root.action: the buttons named "action" shadow it.
    var target = submitter && submitter.hasAttribute("formaction") ? submitter.formAction
      : new URL(root.getAttribute("action") || window.location.href, window.location.href).href;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", target);
    xhr.setRequestHeader("X-Upload-Progress", "1");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable && event.total) show(Math.min(100, Math.floor(event.loaded * 100 / event.total)));
    });
    xhr.upload.addEventListener("load", function () {
      show(100);
      status.querySelector("[data-upload-text]").textContent = status.getAttribute("data-msg-waiting");
    });
    function failed() {
      status.classList.add("failed");
      label.textContent = announce.textContent = status.getAttribute("data-msg-failed");
      buttons.forEach(function (b) { b.disabled = false; });
    }
    xhr.addEventListener("error", failed);
    xhr.addEventListener("abort", failed);
    xhr.addEventListener("load", function () {
      var next = xhr.getResponseHeader("X-Location");
      if (next) { window.location.assign(next); return; }
      if (!/^text\/html/.test(xhr.getResponseHeader("Content-Type") || "")) { failed(); return; }
      if (xhr.responseURL && xhr.responseURL !== window.location.href) {
        window.history.replaceState(null, "", xhr.responseURL);
      }
      // The page the server rendered (a refused form with everything typed, an error page) takes this
      // one's place, its scripts run again, as if the browser had posted.
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    status.hidden = false;
    status.classList.remove("failed");
    status.querySelector("[data-upload-text]").textContent = sending;
    show(0);
    buttons.forEach(function (b) { b.disabled = true; });
    xhr.send(data);
  }

  root.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return;
    var inputs = Array.prototype.slice.call(root.querySelectorAll("input[type=file][data-max-size]"));
    if (inputs.some(function (i) { return i.hasAttribute("data-busy"); })) {
      // A photo still being made smaller is waited for.
      event.preventDefault();
      var submitter = event.submitter;
      window.setTimeout(function () { root.requestSubmit(submitter || undefined); }, 300);
      return;
    }
    var total = 0;
    Array.prototype.forEach.call(root.querySelectorAll("input[type=file]"), function (i) {
      Array.prototype.forEach.call(i.files || [], function (f) { total += f.size; });
    });
    if (!total || !status || !window.FormData || !window.XMLHttpRequest) return;
    event.preventDefault();
    sendWithProgress(event.submitter, fill(status.getAttribute("data-msg-size"), { size: megabytes(total) }));
  });

  // After a refused submit, start at the list of what to change; its links move to each field.
  var summary = document.querySelector("[data-error-summary] [tabindex='-1']");
  if (summary) summary.focus();
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    // A field inside a hidden row cell or a closed part would not take focus: show it first.
    target.scrollIntoView({ block: "center" });
    target.focus();
  });
})();
