// Behaviour the pages declare with data- attributes, so that no page needs an
// inline event handler (the Content-Security-Policy refuses them):
//   <form data-confirm="Question?">              asks before the form is sent
//   <input type="checkbox" data-select-all="ids">  ticks or unticks every checkbox named "ids"
//   <input data-select-on-focus>                   selects its whole text when focused
(function () {
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
