// exportcast hierarchy dashboard: a total and its items from one coherent version, and how
// concentrated exports are; polls the API with If-None-Match.
"use strict";

(function () {
  const cfg = window.EXPORTCAST_HIERARCHY || {};
  const url = "/v1/hierarchies/" + encodeURIComponent(cfg.hierarchy);
  const state = { unit: "" };

  const common = window.exportcastCommon;
  const money = (v) => common.money(v, state.unit);
  const share = (x) => (100 * x).toFixed(1) + "%";
  const inB = (v) => common.inB(v, state.unit);
  const axisUnit = () => common.axisUnit(state.unit);
  const plotConfig = { responsive: true, displaylogo: false };
  const el = common.el;
  const card = common.card;

  function headline(h) {
    const box = document.getElementById("headline");
    box.replaceChildren();
    const total = h.nodes.total.years[0];
    const c = h.concentration[0];
    box.appendChild(card("total-median", total.year + " total, median", money(total.median)));
    box.appendChild(card("top-item", c.year + " top item", c.top_item.replace(/_/g, " ")));
    box.appendChild(card("top-share", c.top_item.replace(/_/g, " ") + " share", share(c.top_share.median)));
    box.appendChild(card("herfindahl", "Herfindahl index", c.herfindahl.median.toFixed(3)));
    box.appendChild(card("version", "version", String(h.version)));
    box.appendChild(card("data-through", "data through", h.data_through));
  }

  // This year's total by node, median and 80% interval: items in order of size, then other.
  function itemsChart(h) {
    const names = Object.keys(h.nodes).filter((n) => n !== "total");
    const year = h.nodes.total.years[0];
    const rows = names.map((n) => ({ name: n, y: h.nodes[n].years[0] }));
    rows.sort((a, b) => (a.name === "other") - (b.name === "other") || a.y.median - b.y.median);
    const trace = {
      type: "bar",
      orientation: "h",
      name: year.year + " median",
      y: rows.map((r) => r.name.replace(/_/g, " ")),
      x: rows.map((r) => inB(r.y.median)),
      error_x: {
        type: "data",
        symmetric: false,
        array: rows.map((r) => inB(r.y.intervals["80"][1] - r.y.median)),
        arrayminus: rows.map((r) => inB(r.y.median - r.y.intervals["80"][0])),
      },
      marker: { color: "#0b63b6" },
    };
    const div = document.getElementById("chart-items");
    div.setAttribute("aria-label", year.year + " by item, median and 80% interval: " +
      rows.slice().reverse().map((r) => r.name + " " + money(r.y.median) + " (" + money(r.y.intervals["80"][0]) + " - " + money(r.y.intervals["80"][1]) + ")").join("; "));
    const layout = {
      margin: { l: 200, r: 16, t: 8, b: 40 },
      xaxis: { title: { text: axisUnit() }, rangemode: "tozero" },
      showlegend: false,
    };
    return Plotly.react(div, [trace], layout, plotConfig);
  }

  // Concentration: published years, then the projected median with its 80% band.
  function concentrationChart(h) {
    const series = [
      ["top_share", "top item's share", "#0b63b6"],
      ["top3_share", "top three's share", "#2e7d32"],
      ["herfindahl", "Herfindahl index", "#b3541e"],
    ];
    const traces = [];
    series.forEach(([key, label, color]) => {
      traces.push({ x: h.history.map((p) => p.year), y: h.history.map((p) => p[key]), name: label + " (published)", mode: "lines+markers", line: { color: color } });
      const c = h.concentration;
      const lows = c.map((p) => p[key].intervals["80"][0]);
      const highs = c.map((p) => p[key].intervals["80"][1]);
      traces.push({ x: c.map((p) => p.year), y: highs, mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" });
      traces.push({ x: c.map((p) => p.year), y: lows, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: color + "33", name: label + " 80%", hoverinfo: "skip" });
      traces.push({ x: c.map((p) => p.year), y: c.map((p) => p[key].median), name: label + " (projected)", mode: "lines+markers", line: { color: color, dash: "dot" } });
    });
    const div = document.getElementById("chart-concentration");
    const last = h.history[h.history.length - 1];
    div.setAttribute("aria-label", "Concentration over the items: " + (last ? last.year + " top share " + share(last.top_share) + ", Herfindahl " + last.herfindahl.toFixed(3) + "; " : "") +
      h.concentration.map((p) => p.year + " top share " + share(p.top_share.median) + " (80% " + share(p.top_share.intervals["80"][0]) + " - " + share(p.top_share.intervals["80"][1]) + "), Herfindahl " + p.herfindahl.median.toFixed(3)).join("; "));
    const layout = {
      margin: { l: 56, r: 16, t: 8, b: 40 },
      legend: { orientation: "h", y: -0.18 },
      hovermode: "x unified",
      yaxis: { title: { text: "share of the total (Herfindahl: index)" }, rangemode: "tozero" },
    };
    return Plotly.react(div, traces, layout, plotConfig);
  }

  function table(h) {
    const t = document.getElementById("table-items");
    t.replaceChildren();
    const years = h.nodes.total.years.map((y) => y.year);
    const head = el("tr");
    head.appendChild(el("th", { scope: "col" }, "node"));
    years.forEach((y) => head.appendChild(el("th", { scope: "col" }, y + " median (share)")));
    t.appendChild(head);
    Object.keys(h.nodes).forEach((n) => {
      const row = el("tr");
      row.appendChild(el("th", { scope: "row" }, n.replace(/_/g, " ")));
      h.nodes[n].years.forEach((y, i) => {
        const s = h.shares[n] ? " (" + share(h.shares[n][i].median) + ")" : "";
        row.appendChild(el("td", {}, money(y.median) + s));
      });
      t.appendChild(row);
    });
  }

  async function render(h) {
    state.unit = h.unit;
    document.getElementById("title").textContent = h.hierarchy.id + ": " + h.hierarchy.total_series +
      " = " + h.hierarchy.items.length + " " + h.hierarchy.classification + " items + other";
    headline(h);
    table(h);
    await Promise.all([itemsChart(h), concentrationChart(h)]);
    document.body.dataset.version = String(h.version);
    document.body.dataset.ready = "true";
    return h.version;
  }

  common.follow(url, cfg.pollSeconds, render,
    (h) => "version " + h.version + " (" + h.method + "), data through " + h.data_through,
    { 409: "no version yet" });
})();
