// Behaviour the pages declare with data- attributes, so that no page needs an
// inline event handler (the Content-Security-Policy refuses them):
//   <form data-confirm="Question?">              asks before the form is sent
//   <input type="checkbox" data-select-all="ids">  ticks or unticks every checkbox named "ids"
//   <input data-select-on-focus>                   selects its whole text when focused
//   <button data-menu-toggle aria-controls="id">   folds the top bar's menu on narrow screens
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
})();
