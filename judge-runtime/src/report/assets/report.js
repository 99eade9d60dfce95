(function () {
  "use strict";
  var table = document.getElementById("evals");
  var form = document.getElementById("controls");
  if (!table || !form || !window.URLSearchParams) return;
  var groups = Array.prototype.slice.call(table.tBodies);
  var heads = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-sort]"));
  var shown = document.getElementById("shown");
  var sorts = ["name", "score", "delta", "status"], statuses = ["passed", "failed", "error"];
  var rank = { error: 0, failed: 1, passed: 2 };
  var state = { sort: "", dir: "asc", status: "", q: "" };

  function read() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    state.sort = sorts.indexOf(p.get("sort")) >= 0 ? p.get("sort") : "";
    state.dir = p.get("dir") === "desc" ? "desc" : "asc";
    state.status = statuses.indexOf(p.get("status")) >= 0 ? p.get("status") : "";
    state.q = p.get("q") || "";
  }

  function write() {
    var p = new URLSearchParams();
    if (state.sort) { p.set("sort", state.sort); p.set("dir", state.dir); }
    if (state.status) p.set("status", state.status);
    if (state.q) p.set("q", state.q);
    var hash = p.toString();
    try {
      history.replaceState(null, "", location.pathname + location.search + (hash ? "#" + hash : ""));
    } catch (e) {
      location.hash = hash;
    }
  }

  function row(group) { return group.rows[0]; }

  // The sort key of a row: a number, a string, or null (no score or no baseline), which sorts last.
  function key(group) {
    var d = row(group).dataset;
    if (state.sort === "name") return d.name;
    if (state.sort === "status") return rank[d.status];
    var v = state.sort === "score" ? d.score : d.delta;
    return v === "" || v === undefined ? null : parseFloat(v);
  }

  function compare(a, b) {
    var ka = key(a), kb = key(b);
    if (ka === null || kb === null) {
      if (ka !== kb) return ka === null ? 1 : -1;
    } else if (ka !== kb) {
      var c = ka < kb ? -1 : 1;
      return state.dir === "desc" ? -c : c;
    }
    return groups.indexOf(a) - groups.indexOf(b);
  }

  function apply() {
    form.elements.q.value = state.q;
    form.elements.status.value = state.status;
    var needle = state.q.toLowerCase(), visible = 0;
    groups.forEach(function (group) {
      var d = row(group).dataset;
      var match = (!state.status || d.status === state.status) &&
        (!needle || (d.name + "\n" + d.rubric).toLowerCase().indexOf(needle) >= 0);
      group.hidden = !match;
      row(group).hidden = !match;
      if (match) visible++;
    });
    var order = groups.slice();
    if (state.sort) order.sort(compare);
    order.forEach(function (group) { table.appendChild(group); });
    heads.forEach(function (th) {
      if (th.dataset.sort === state.sort) th.setAttribute("aria-sort", state.dir === "desc" ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
    // Dataset headings are groups too, named as their dataset: in name order they head their rows,
    // sorted otherwise they sort as the evals do. They are not evals.
    var evals = groups.filter(function (g) { return g.id.indexOf("eval-") === 0; });
    visible = evals.filter(function (g) { return !g.hidden; }).length;
    shown.textContent = visible === evals.length ? evals.length + " evals" : visible + " of " + evals.length + " evals";
  }

  form.hidden = false;
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.elements.q.addEventListener("input", function () { state.q = this.value; write(); apply(); });
  form.elements.status.addEventListener("change", function () { state.status = this.value; write(); apply(); });
  heads.forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var sort = th.dataset.sort;
      state.dir = state.sort === sort && state.dir === "asc" ? "desc" : "asc";
      state.sort = sort;
      write();
      apply();
    });
  });
  window.addEventListener("hashchange", function () { read(); apply(); });
  read();
  apply();
})();
