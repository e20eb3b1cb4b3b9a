// exportcast markets dashboard: each region's share of a series' exports, published and
// projected, and how concentrated the markets are; polls the API with If-None-Match.
"use strict";

(function () {
  const cfg = window.EXPORTCAST_MARKETS || {};
  const url = "/v1/series/" + encodeURIComponent(cfg.series) + "/markets";

  const common = window.exportcastCommon;
  const share = (x) => (100 * x).toFixed(1) + "%";
  const spread = (s) => share(s.median) + " [" + share(s.intervals["80"][0]) + "-" + share(s.intervals["80"][1]) + "]";
  const plotConfig = { responsive: true, displaylogo: false };
  const el = common.el;
  const colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79"];

  // Published compositions with every region known: a year, or twelve months (drawn at
  // their middle, on the axis where a year's point stands for the whole year).
  const complete = (m) => m.published.filter((p) => p.herfindahl !== null);
  function periodX(period) {
    const m = period.match(/^(\d{4})-(\d{2})\.\.(\d{4})-(\d{2})$/);
    if (!m) return Number(period);
    return (Number(m[1]) + (m[2] - 1) / 12 + Number(m[3]) + m[4] / 12) / 2 - 0.5;
  }

  // Per region: its published shares (solid), then its projected medians with 80% bars.
  function sharesChart(m) {
    const past = complete(m);
    const traces = [];
    m.regions.forEach((r, i) => {
      const color = colors[i % colors.length];
      traces.push({ x: past.map((p) => periodX(p.period)), y: past.map((p) => p.shares[r.id]), text: past.map((p) => p.period),
        name: r.name, legendgroup: r.id, mode: "lines+markers", marker: { size: 4 }, line: { color: color },
        hovertemplate: "%{text}: %{y:.1%}<extra>" + r.name + "</extra>" });
      const s = m.years.map((y) => y.regions[r.id].share);
      traces.push({ x: m.years.map((y) => y.year), y: s.map((v) => v.median), name: r.name + " (projected)",
        legendgroup: r.id, showlegend: false, mode: "lines+markers", line: { color: color, dash: "dot" },
        error_y: { type: "data", symmetric: false, color: color, thickness: 1,
          array: s.map((v) => v.intervals["80"][1] - v.median), arrayminus: s.map((v) => v.median - v.intervals["80"][0]) },
        hovertemplate: "%{x}: %{y:.1%}<extra>" + r.name + " (projected)</extra>" });
    });
    const div = document.getElementById("chart-market-shares");
    const last = past[past.length - 1];
    const first = m.years[0];
    div.setAttribute("aria-label", "Shares of exports by region" + (last ? ", " + last.period + ": " +
      m.regions.map((r) => r.name + " " + share(last.shares[r.id])).join(", ") : "") + "; " + first.year + " projected (80%): " +
      m.regions.map((r) => r.name + " " + spread(first.regions[r.id].share)).join(", "));
    const layout = {
      margin: { l: 56, r: 16, t: 8, b: 40 },
      legend: { orientation: "h", y: -0.12 },
      hovermode: "closest",
      yaxis: { title: { text: "share of exports" }, tickformat: ".0%", rangemode: "tozero" },
    };
    return Plotly.react(div, traces, layout, plotConfig);
  }

  // The Herfindahl index over the regions: published, then the projected median in its 80% band.
  function concentrationChart(m) {
    const past = complete(m);
    const years = m.years.map((y) => y.year);
    const h = m.years.map((y) => y.concentration.herfindahl);
    const color = "#b3541e";
    const traces = [
      { x: past.map((p) => periodX(p.period)), y: past.map((p) => p.herfindahl), text: past.map((p) => p.period),
        name: "published", mode: "lines+markers", line: { color: color }, hovertemplate: "%{text}: %{y:.3f}<extra></extra>" },
      { x: years, y: h.map((s) => s.intervals["80"][1]), mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x: years, y: h.map((s) => s.intervals["80"][0]), mode: "lines", line: { width: 0 }, fill: "tonexty",
        fillcolor: color + "33", name: "80%", hoverinfo: "skip" },
      { x: years, y: h.map((s) => s.median), name: "projected", mode: "lines+markers", line: { color: color, dash: "dot" } },
    ];
    const div = document.getElementById("chart-market-concentration");
    const last = past[past.length - 1];
    div.setAttribute("aria-label", "Herfindahl index over the regions: " + (last ? last.period + " " + last.herfindahl.toFixed(3) + "; " : "") +
      m.years.map((y, i) => y.year + " " + h[i].median.toFixed(3) + " (80% " + h[i].intervals["80"][0].toFixed(3) + " - " +
        h[i].intervals["80"][1].toFixed(3) + "), top region " + y.concentration.top_region).join("; "));
    const layout = {
      margin: { l: 56, r: 16, t: 8, b: 40 },
      legend: { orientation: "h", y: -0.18 },
      hovermode: "x unified",
      yaxis: { title: { text: "Herfindahl index" } },
    };
    return Plotly.react(div, traces, layout, plotConfig);
  }

  function table(m) {
    const t = document.getElementById("table-markets");
    t.replaceChildren();
    const head = el("tr");
    head.appendChild(el("th", { scope: "col" }, "region"));
    m.years.forEach((y) => head.appendChild(el("th", { scope: "col" }, String(y.year))));
    t.appendChild(head);
    m.regions.forEach((r) => {
      const row = el("tr", { id: "market-" + r.id });
      row.appendChild(el("th", { scope: "row" }, r.name));
      m.years.forEach((y) => row.appendChild(el("td", {}, spread(y.regions[r.id].share))));
      t.appendChild(row);
    });
    const ytd = m.year_to_date;
    document.getElementById("markets-note").textContent = "Newest composition by destination: " + m.newest_composition +
      "; the total's data through " + m.data_through + "." +
      (ytd ? " " + ytd.year + "'s first " + ytd.months + " months by destination are facts." : "");
  }

  async function render(m) {
    document.getElementById("title").textContent = m.series + ": exports by market";
    table(m);
    await Promise.all([sharesChart(m), concentrationChart(m)]);
    document.body.dataset.version = String(m.model_version);
    document.body.dataset.ready = "true";
    return m.model_version;
  }

  common.follow(url, cfg.pollSeconds, render,
    (m) => "version " + m.model_version + ", data through " + m.data_through,
    { 409: "no version yet", 404: "no destination rows yet" });
})();
