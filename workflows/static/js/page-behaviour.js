// Behaviour the pages declare with data- attributes, so that no page needs an
// inline event handler (the Content-Security-Policy refuses them):
//   <form data-confirm="Question?">              asks before the form is sent
//   <input type="checkbox" data-select-all="ids">  ticks or unticks every checkbox named "ids"
//   <input data-select-on-focus>                   selects its whole text when focused
//   <button data-menu-toggle aria-controls="id">   folds the top bar's menu on narrow screens
//   <select data-typeahead="/org/units/search?role=…">  becomes a type-ahead over that JSON endpoint
//                                                  (a text box showing the name, a hidden input the id)
(function () {
  document.querySelectorAll("[data-menu-toggle]").forEach(function (button) {
    var bar = button.closest(".topbar");
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!bar || !menu) return;
    bar.classList.add("menu-ready");  // until now the menu was open, so the page works without the script
    button.addEventListener("click", function () {
      var open = !bar.classList.contains("menu-open");
      bar.classList.toggle("menu-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { var first = menu.querySelector("a, button"); if (first) first.focus(); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !bar.classList.contains("menu-open")) return;
      bar.classList.remove("menu-open");
      button.setAttribute("aria-expanded", "false");
      button.focus();
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[type=checkbox][data-select-all]")) return;
    var name = box.getAttribute("data-select-all");
    document.querySelectorAll("input[type=checkbox]").forEach(function (other) {
      if (other.name === name) other.checked = box.checked;
    });
  });

  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-select-on-focus") && field.select) field.select();
  });

  var typeaheads = 0;
  function typeahead(select) {
    var url = select.getAttribute("data-typeahead");
    var n = ++typeaheads;
    var wrap = document.createElement("div");
    wrap.className = "typeahead";
    var input = document.createElement("input");
    input.type = "text";
    input.autocomplete = "off";
    input.id = select.id || "typeahead-" + n;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", "typeahead-list-" + n);
    if (select.getAttribute("aria-label")) input.setAttribute("aria-label", select.getAttribute("aria-label"));
    input.placeholder = select.getAttribute("data-placeholder") || "";
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = select.name;
    var chosen = select.options[select.selectedIndex];
    hidden.value = chosen ? chosen.value : "";
    input.value = chosen && chosen.value ? chosen.text.trim() : "";
    var list = document.createElement("ul");
    list.id = "typeahead-list-" + n;
    list.className = "typeahead-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    select.replaceWith(wrap);
    wrap.append(input, hidden, list);
    var items = [], active = -1, timer = null, asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function choose(item) {
      hidden.value = String(item.id);
      input.value = item.label;
      close();
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function mark(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) input.setAttribute("aria-activedescendant", list.children[index].id);
    }
    function show(found) {
      items = found;
      list.textContent = "";
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.textContent = item.label;
        if (item.parent) {
          var context = document.createElement("span");
          context.className = "muted small";
          context.textContent = " · " + item.parent;
          li.appendChild(context);
        }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(item); });
        list.appendChild(li);
      });
      list.hidden = !found.length;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      mark(-1);
    }
    input.addEventListener("input", function () {
      hidden.value = "";  // a name typed but not picked chooses nothing: the filter is "all"
      var text = input.value.trim();
      clearTimeout(timer);
      if (!text) { close(); return; }
      timer = setTimeout(function () {
        var ticket = ++asked;
        fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(text),
              { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (found) { if (ticket === asked) show(found); })
          .catch(function () { close(); });
      }, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); mark(Math.min(active + 1, items.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); mark(Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(items[active]); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", close);
  }
  document.querySelectorAll("select[data-typeahead]").forEach(typeahead);
})();
