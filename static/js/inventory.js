// Inventory pages: "select all" on the variant list, and the typed confirmation of dangerous actions
// (the button stays disabled until the source's exact name is typed; the server checks it again).
(function () {
  document.querySelectorAll("[data-select-all]").forEach(function (master) {
    master.addEventListener("change", function () {
      master.closest("form").querySelectorAll('input[name="variant"]').forEach(function (box) {
        box.checked = master.checked;
      });
    });
  });
  document.querySelectorAll("form[data-typed-confirmation]").forEach(function (form) {
    var input = form.querySelector('input[name="confirm_name"]');
    var button = form.querySelector("[data-confirm-button]");
    var expected = form.dataset.expected;
    function sync() { button.disabled = input.value !== expected; }
    input.addEventListener("input", sync);
    form.addEventListener("submit", function (event) { if (input.value !== expected) event.preventDefault(); });
    sync();
  });
})();
