// Mapping-template editor: add, remove and reorder rule rows, transforms, conditions and do-not-import rules,
// show only the parameters a transform takes, then tell htmx the form changed so the preview refreshes.
(function () {
  "use strict";

  function changed(form) {
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function nextNumber(container, selector, attribute) {
    var highest = -1;
    container.querySelectorAll(selector).forEach(function (element) {
      var value = parseInt(element.getAttribute(attribute) || element.value, 10);
      if (!isNaN(value) && value > highest) highest = value;
    });
    return highest + 1;
  }

  function fromTemplate(id, replacements) {
    var html = document.getElementById(id).innerHTML;
    Object.keys(replacements).forEach(function (key) {
      html = html.split(key).join(String(replacements[key]));
    });
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function showParams(select) {
    var option = select.options[select.selectedIndex];
    var wanted = ((option && option.getAttribute("data-params")) || "").split(" ");
    select.parentElement.querySelectorAll(".param").forEach(function (input) {
      input.hidden = wanted.indexOf(input.getAttribute("data-param")) < 0;
    });
  }

  function showTargetName(select) {
    var name = select.parentElement.querySelector(".target-name");
    if (name) name.hidden = ["option:", "attr:"].indexOf(select.value) < 0;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("editor-form");
    if (!form) return;
    var rules = document.getElementById("rules");

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || button.type === "submit") return;
      var rule = button.closest(".rule");
      if (button.id === "add-rule") {
        var n = nextNumber(rules, "input[name=rule]", "value");
        var row = fromTemplate("rule-template", { __n__: n });
        rules.appendChild(row);
        row.querySelector(".target").focus();
      } else if (button.classList.contains("add-transform")) {
        var list = rule.querySelector(".transform-list");
        var m = nextNumber(list, "input[name$='-transform']", "value");
        list.appendChild(fromTemplate("transform-template", { __n__: rule.getAttribute("data-n"), __m__: m }));
      } else if (button.classList.contains("add-predicate")) {
        var prefix = button.getAttribute("data-prefix");
        var box = document.getElementById(prefix === "cond" ? "conditions" : "exclusions");
        var k = nextNumber(box, "input[name=" + prefix + "]", "value");
        box.appendChild(fromTemplate(prefix + "-template", { __n__: k }));
        return; // an empty condition changes nothing until it is filled in
      } else if (button.classList.contains("remove-transform")) {
        button.closest(".transform").remove();
      } else if (button.classList.contains("remove-rule")) {
        rule.remove();
      } else if (button.classList.contains("remove-predicate")) {
        button.closest(".predicate").remove();
      } else if (button.classList.contains("move-up") && rule.previousElementSibling) {
        rule.parentElement.insertBefore(rule, rule.previousElementSibling);
      } else if (button.classList.contains("move-down") && rule.nextElementSibling) {
        rule.parentElement.insertBefore(rule.nextElementSibling, rule);
      } else {
        return;
      }
      changed(form);
    });

    form.addEventListener("change", function (event) {
      if (event.target.classList && event.target.classList.contains("transform-op")) showParams(event.target);
      if (event.target.classList && event.target.classList.contains("target")) showTargetName(event.target);
    });
  });
})();
