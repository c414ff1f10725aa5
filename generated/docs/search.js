// Search over every name in the reference.  The index is a plain script
// (search-index.js), so this works from file:// with no server.
(function () {
  "use strict";
  var input = document.getElementById("search");
  var list = document.getElementById("results");
  var toggle = document.getElementById("theme");
  var index = window.QAPI_INDEX || [];
  var active = -1;

  function theme() {
    var root = document.documentElement;
    if (root.dataset.theme) return root.dataset.theme;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  function setTheme(value) {
    document.documentElement.dataset.theme = value;
    try { localStorage.setItem("qapi-theme", value); } catch (e) { /* storage off */ }
  }
  if (!document.documentElement.dataset.theme) document.documentElement.dataset.theme = theme();
  toggle.addEventListener("click", function () { setTheme(theme() === "dark" ? "light" : "dark"); });

  function matches(query) {
    var q = query.toLowerCase().replace(/_/g, "-");
    var scored = [];
    for (var i = 0; i < index.length; i++) {
      var name = index[i][0].toLowerCase().replace(/_/g, "-");
      var at = name.indexOf(q);
      if (at < 0) continue;
      scored.push([name === q ? 0 : at === 0 ? 1 : 2, name.length, i]);
    }
    scored.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; });
    return scored.slice(0, 50).map(function (s) { return index[s[2]]; });
  }

  function show() {
    var query = input.value.trim();
    list.textContent = "";
    active = -1;
    if (!query) { list.hidden = true; return; }
    var found = matches(query);
    if (!found.length) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = "No definition matches \u201c" + query + "\u201d";
      list.appendChild(none);
    }
    found.forEach(function (e) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = e[2];
      var kind = document.createElement("span");
      kind.className = "r-kind";
      kind.textContent = e[1];
      a.appendChild(kind);
      a.appendChild(document.createTextNode(e[0]));
      if (e[3]) {
        var sum = document.createElement("span");
        sum.className = "r-sum";
        sum.textContent = e[3];
        a.appendChild(sum);
      }
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
  }

  function move(step) {
    var items = list.querySelectorAll("li a");
    if (!items.length) return;
    if (active >= 0) items[active].parentNode.classList.remove("active");
    active = (active + step + items.length) % items.length;
    items[active].parentNode.classList.add("active");
    items[active].scrollIntoView({ block: "nearest" });
  }

  input.addEventListener("input", show);
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown") { move(1); ev.preventDefault(); }
    else if (ev.key === "ArrowUp") { move(-1); ev.preventDefault(); }
    else if (ev.key === "Enter") {
      var items = list.querySelectorAll("li a");
      if (items.length) window.location.href = items[Math.max(active, 0)].href;
    } else if (ev.key === "Escape") { list.hidden = true; input.blur(); }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && document.activeElement !== input) { input.focus(); ev.preventDefault(); }
  });
  document.addEventListener("click", function (ev) {
    if (!list.contains(ev.target) && ev.target !== input) list.hidden = true;
  });
})();
