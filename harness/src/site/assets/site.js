// graphbench site. Draws the compare view, and records on <body> how the page went:
// data-status ("ok", or what broke), data-charts (images shown plus compare rows drawn) and
// data-js-error, so a headless browser can tell a page that drew from one that did not.
"use strict";

window.addEventListener("error", (e) => {
  document.body.setAttribute("data-js-error", String(e.message));
});

// Seconds in the unit that keeps 1-999 before the point, 3 significant digits.
function formatTime(s) {
  const units = [[1, "s"], [1e-3, "ms"], [1e-6, "µs"], [1e-9, "ns"]];
  for (const [scale, unit] of units) {
    if (s >= scale || unit === "ns") {
      return `${(s / scale).toPrecision(3)} ${unit}`;
    }
  }
  return String(s);
}

function element(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

const SVG = "http://www.w3.org/2000/svg";

// A bar from ratio 1 to `ratio` on a log axis spanning 1/span to span.
function ratioBar(ratio, span, verdict) {
  const width = 240, height = 14, mid = width / 2;
  const x = (r) => mid + (Math.log(r) / Math.log(span)) * mid;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("class", "bar");
  const bar = document.createElementNS(SVG, "rect");
  const end = Math.min(width, Math.max(0, x(ratio)));
  bar.setAttribute("x", Math.min(mid, end));
  bar.setAttribute("y", 2);
  bar.setAttribute("width", Math.max(1, Math.abs(end - mid)));
  bar.setAttribute("height", height - 4);
  bar.setAttribute("class", verdict);
  const axis = document.createElementNS(SVG, "line");
  for (const [k, v] of [["x1", mid], ["x2", mid], ["y1", 0], ["y2", height]]) {
    axis.setAttribute(k, v);
  }
  axis.setAttribute("class", "axis");
  svg.append(bar, axis);
  return svg;
}

// Fills the run selectors, draws the table for the chosen pair; returns the rows drawn.
function drawCompare(runs) {
  const selA = document.getElementById("run-a");
  const selB = document.getElementById("run-b");
  runs.forEach((r, i) => {
    const label = `${r.started} · ${r.machine} · ${r.commit.slice(0, 7)}`;
    selA.append(element("option", label, { value: i }));
    selB.append(element("option", label, { value: i }));
  });
  // B is the latest run, A the one before it on the same machine: a pair across machines
  // compares the machines as much as the code. Without one, the run before B.
  const last = runs.length - 1;
  let before = last - 1;
  while (before >= 0 && runs[before].machine !== runs[last].machine) before -= 1;
  selA.value = String(before >= 0 ? before : Math.max(0, last - 1));
  selB.value = String(last);
  const render = () => {
    const a = runs[Number(selA.value)];
    const b = runs[Number(selB.value)];
    const keys = Object.keys(a.cases).filter((k) => k in b.cases).sort();
    const ratios = keys.map((k) => b.cases[k][0] / a.cases[k][0]);
    const widest = Math.max(1.25, ...ratios.map((r) => Math.max(r, 1 / r)));
    const table = element("table", undefined, { class: "compare" });
    const head = element("tr");
    for (const h of ["case", "A median [95% CI]", "B median [95% CI]", "B / A", `B / A (axis ${(1 / widest).toPrecision(2)}–${widest.toPrecision(2)}×)`]) {
      head.append(element("th", h));
    }
    table.append(head);
    keys.forEach((k, i) => {
      const [ma, loA, hiA] = a.cases[k];
      const [mb, loB, hiB] = b.cases[k];
      // Intervals apart: B slower or faster beyond both runs' own uncertainty.
      const verdict = loB > hiA ? "slower" : hiB < loA ? "faster" : "overlap";
      const row = element("tr", undefined, { class: verdict });
      row.append(
        element("td", k),
        element("td", `${formatTime(ma)} [${formatTime(loA)}, ${formatTime(hiA)}]`),
        element("td", `${formatTime(mb)} [${formatTime(loB)}, ${formatTime(hiB)}]`),
        element("td", `${ratios[i].toFixed(3)}×${verdict === "overlap" ? "" : " (" + verdict + ")"}`),
      );
      const cell = element("td");
      cell.append(ratioBar(ratios[i], widest, verdict));
      row.append(cell);
      table.append(row);
    });
    const onlyA = Object.keys(a.cases).filter((k) => !(k in b.cases)).length;
    const onlyB = Object.keys(b.cases).filter((k) => !(k in a.cases)).length;
    const machines = a.machine === b.machine
      ? ""
      : ` A ran on ${a.machine} and B on ${b.machine}: the ratios compare the machines too.`;
    const note = element(
      "p",
      `${keys.length} cases in both runs; ${onlyA} only in A, ${onlyB} only in B.${machines}`,
    );
    document.getElementById("compare").replaceChildren(note, table);
    return keys.length;
  };
  selA.addEventListener("change", render);
  selB.addEventListener("change", render);
  return render();
}

window.addEventListener("load", () => {
  let charts = 0;
  const broken = [];
  for (const img of document.images) {
    if (img.complete && img.naturalWidth > 0) charts += 1;
    else broken.push(img.getAttribute("src"));
  }
  const data = document.getElementById("runs");
  if (data) charts += drawCompare(JSON.parse(data.textContent));
  document.body.setAttribute("data-charts", String(charts));
  document.body.setAttribute(
    "data-status",
    broken.length ? `broken images: ${broken.join(" ")}` : "ok",
  );
});
