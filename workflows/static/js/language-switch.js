// Switching language on a page with a form being filled keeps what was typed.
// The switch is a POST that reloads the page in the other language; just before
// it goes, the fill form's fields are put in this tab's sessionStorage, and the
// reloaded page puts them back (adding the roster rows they need) and forgets
// them. Chosen files cannot be carried this way; files already uploaded are
// kept by the server and their "keep" boxes are carried like any checkbox.
(function () {
  "use strict";
  var KEY = "wenming:typed-before-language-switch";
  var FRESH_MS = 10 * 60 * 1000;
  var SKIPPED = { csrf_token: true, row_version: true, action: true };

  function fillForm() {
    return document.querySelector("form[data-form-root]");
  }

  function here() {
    return window.location.pathname + window.location.search;
  }

  function snapshot(form) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIPPED[el.name] || el.disabled || el.closest("template")) return;
      if (el.type === "file" || el.type === "submit" || el.type === "button" || el.type === "hidden") return;
      if (el.type === "checkbox" || el.type === "radio") {
        fields.push({ name: el.name, value: el.value, checked: el.checked });
      } else if (el.multiple && el.options) {
        fields.push({ name: el.name, values: Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; }) });
      } else {
        fields.push({ name: el.name, value: el.value });
      }
    });
    return fields;
  }

  function ensureRow(form, name) {
    // A roster cell named "<roster>-<index>-<column>" that the server did not render
    // was added in the page; add rows the way the page does until it exists.
    var m = /^(\w+)-(\d+)-\w+$/.exec(name);
    if (!m) return;
    var button = form.querySelector('[data-add-row="' + m[1] + '"]');
    for (var tries = 0; button && tries <= Number(m[2]) && !form.querySelector('[name="' + name + '"]'); tries++) {
      var before = form.querySelectorAll("[name]").length;
      button.click();
      if (form.querySelectorAll("[name]").length === before) return; // the roster is full
    }
  }

  function restore(form, fields) {
    fields.forEach(function (field) {
      if (!form.querySelector('[name="' + field.name + '"]')) ensureRow(form, field.name);
    });
    fields.forEach(function (field) {
      var matches = form.querySelectorAll('[name="' + field.name + '"]');
      Array.prototype.forEach.call(matches, function (el) {
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.value === field.value) el.checked = field.checked;
        } else if (field.values && el.options) {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = field.values.indexOf(o.value) >= 0; });
        } else if (field.value !== undefined && el.type !== "file") {
          el.value = field.value;
        }
      });
      if (matches.length) {
        // The page's live rules (show/hide, sums, person marks) listen for these.
        matches[0].dispatchEvent(new Event("input", { bubbles: true }));
        matches[0].dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var switcher = event.target;
    if (!switcher.matches || !switcher.matches("form[action*=\"/language/\"]")) return;
    var form = fillForm();
    if (!form) return;
    // Come back to this very page, also when it was shown in answer to a POST.
    var next = switcher.querySelector("input[name=next]");
    if (next) next.value = here();
    try {
      window.sessionStorage.setItem(KEY, JSON.stringify({ page: here(), at: Date.now(), fields: snapshot(form) }));
    } catch (e) { /* storage full or refused: the switch still works, as before */ }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    var saved;
    try {
      saved = JSON.parse(window.sessionStorage.getItem(KEY) || "null");
      window.sessionStorage.removeItem(KEY);
    } catch (e) { return; }
    var form = fillForm();
    if (!saved || !form || saved.page !== here() || Date.now() - saved.at > FRESH_MS) return;
    restore(form, saved.fields || []);
  });
})();
