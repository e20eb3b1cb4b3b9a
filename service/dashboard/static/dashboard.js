// exportcast dashboard: draws one series from the API and polls it with If-None-Match.
"use strict";

(function () {
  const cfg = window.EXPORTCAST || {};
  const base = "/v1/series/" + encodeURIComponent(cfg.series);
  const state = { etag: null, version: null, unit: "" };

  const common = window.exportcastCommon;
  // Numbers as people read them: $709.3B for USD millions, 67% for probabilities.
  const money = (v) => common.money(v, state.unit);
  function pct(p) {
    if (p === null || p === undefined) return "-";
    const x = 100 * p;
    return (x > 0 && x < 1 ? x.toFixed(1) : x.toFixed(0)) + "%";
  }
  const inB = (v) => common.inB(v, state.unit);
  const axisUnit = () => common.axisUnit(state.unit);

  // A report (`exportcast report`) carries the API's bodies: it reads them, never the API.
  const preloaded = cfg.data || null;
  const PRELOADED = { "/forecast": "forecast", "/observations": "observations", "": "series" };

  async function getJSON(url, etag) {
    if (preloaded) {
      const key = url.startsWith(base + "/track-record") ? "track" : url.startsWith(base + "/models/") ? "moves" : PRELOADED[url.slice(base.length)];
      return { status: 200, etag: null, body: preloaded[key] };
    }
    const headers = etag ? { "If-None-Match": etag } : {};
    const r = await fetch(url, { headers: headers });
    if (common.signInIfRefused(r)) return { status: 304 };
    if (r.status === 304) return { status: 304 };
    if (!r.ok) throw new Error(url + " answered " + r.status);
    return { status: r.status, etag: r.headers.get("ETag"), body: await r.json() };
  }

  const el = common.el;
  const card = common.card;

  const layoutBase = () => ({
    margin: { l: 56, r: 16, t: 8, b: 40 },
    legend: { orientation: "h", y: -0.18 },
    hovermode: "x unified",
    yaxis: { title: { text: axisUnit() }, rangemode: "tozero" },
  });
  const plotConfig = { responsive: true, displaylogo: false };

  function headline(f) {
    const box = document.getElementById("headline");
    box.replaceChildren();
    const y = f.years[0];
    box.appendChild(card("median-current", y.year + " median", money(y.median)));
    const i80 = y.intervals["80"];
    box.appendChild(card("interval-current", "80% interval", money(i80[0]) + " - " + money(i80[1])));
    Object.entries(y.prob_at_least).forEach(([t, p]) => {
      box.appendChild(card("p-" + t, "P(" + y.year + " >= " + money(Number(t)) + ")", pct(p)));
      const need = (y.pace || {})[t];
      if (need && need.needed > 0) {
        const c = card("pace-" + t, "needed a month for " + money(Number(t)), money(need.per_month));
        const same = need.growth_same_months === null ? "" : ((need.growth_same_months >= 0 ? "+" : "") + pct(need.growth_same_months) + " on a year earlier; ");
        const seen = need.history_share === null ? "" : "grown that fast in " + pct(need.history_share) + " of " + need.history_windows + " past windows";
        c.appendChild(el("div", { class: "note" }, same + seen));
        box.appendChild(c);
      }
    });
    const e = f.expected_error || {};
    const err = e.n ? e.mape_pct.toFixed(1) + "% (" + pct(e.coverage["80"]) + " in 80%)" : "-";
    box.appendChild(card("backtest-error", "backtest error at " + (e.m ?? "-") + " months known", err));
    box.appendChild(card("version", "model version", String(f.model_version)));
    box.appendChild(card("data-through", "data through", f.data_through));
  }

  function monthlyChart(f, observations) {
    const recent = observations.slice(-96);
    const x = recent.map((o) => o.month);
    const m = f.monthly;
    const mx = m.map((q) => q.month);
    const band = (lv, i) => m.map((q) => inB(q.intervals[lv][i]));
    const traces = [
      { x: x, y: recent.map((o) => inB(o.value)), name: "published", mode: "lines", line: { color: "#1b1f24" } },
      { x: mx, y: band("95", 0), mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x: mx, y: band("95", 1), mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(11,99,182,0.15)", name: "95%" },
      { x: mx, y: band("80", 0), mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x: mx, y: band("80", 1), mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(11,99,182,0.30)", name: "80%" },
      { x: mx, y: m.map((q) => inB(q.median)), name: "median", mode: "lines", line: { color: "#0b63b6", dash: "dash" } },
    ];
    const div = document.getElementById("chart-monthly");
    div.setAttribute("aria-label", "Monthly values to " + f.data_through + ", then the median path to " +
      mx[mx.length - 1] + " with 80% and 95% bands; next month's median " + money(m[0].median));
    return Plotly.react(div, traces, layoutBase(), plotConfig);
  }

  function annualTotals(observations) {
    const byYear = {};
    observations.forEach((o) => {
      const y = o.month.slice(0, 4);
      byYear[y] = byYear[y] || { n: 0, total: 0 };
      byYear[y].n += 1;
      byYear[y].total += o.value;
    });
    return Object.entries(byYear).filter(([, v]) => v.n === 12).map(([y, v]) => ({ year: Number(y), total: v.total }));
  }

  function annualChart(f, observations) {
    const actual = annualTotals(observations).slice(-12);
    const ys = f.years;
    const err = (lv) => ({
      type: "data", symmetric: false,
      array: ys.map((y) => inB(y.intervals[lv][1] - y.median)),
      arrayminus: ys.map((y) => inB(y.median - y.intervals[lv][0])),
    });
    const traces = [
      { type: "bar", x: actual.map((a) => a.year), y: actual.map((a) => inB(a.total)), name: "actual", marker: { color: "#8a96a3" } },
      { x: ys.map((y) => y.year), y: ys.map((y) => inB(y.median)), name: "95% interval", mode: "markers", error_y: { ...err("95"), thickness: 1, width: 4, color: "#0b63b6" }, marker: { size: 1 } },
      { x: ys.map((y) => y.year), y: ys.map((y) => inB(y.median)), name: "median, 80% interval", mode: "markers", error_y: { ...err("80"), thickness: 5, width: 0, color: "#0b63b6" }, marker: { size: 9, color: "#0b63b6" } },
    ];
    const layout = layoutBase();
    layout.hovermode = "closest";
    layout.shapes = (f.targets || []).map((t) => ({ type: "line", xref: "paper", x0: 0, x1: 1, y0: inB(t.amount), y1: inB(t.amount), line: { dash: "dot", color: "#b03a2e" } }));
    layout.annotations = (f.targets || []).map((t) => ({ xref: "paper", x: 0, y: inB(t.amount), text: money(t.amount), showarrow: false, yshift: 10, xanchor: "left", font: { color: "#b03a2e" } }));
    const div = document.getElementById("chart-annual");
    div.setAttribute("aria-label", ys.map((y) => y.year + ": " + money(y.median) + " (80% " + money(y.intervals["80"][0]) + " - " + money(y.intervals["80"][1]) + ")").join("; "));
    const table = document.getElementById("table-annual");
    table.replaceChildren();
    const head = el("tr");
    ["year", "known months", "median", "80% interval", "95% interval", ...Object.keys(ys[0].prob_at_least).map((t) => "P >= " + money(Number(t)))].forEach((h) => head.appendChild(el("th", { scope: "col" }, h)));
    table.appendChild(head);
    ys.forEach((y) => {
      const row = el("tr", { id: "year-" + y.year });
      [String(y.year), String(y.months_observed), money(y.median),
        money(y.intervals["80"][0]) + " - " + money(y.intervals["80"][1]),
        money(y.intervals["95"][0]) + " - " + money(y.intervals["95"][1]),
        ...Object.values(y.prob_at_least).map(pct)].forEach((c) => row.appendChild(el("td", {}, c)));
      table.appendChild(row);
    });
    return Plotly.react(div, traces, layout, plotConfig);
  }

  function targetCharts(f) {
    const ys = f.years;
    const targets = Object.keys(ys[0].prob_at_least);
    const probs = targets.map((t) => ({ type: "bar", name: ">= " + money(Number(t)), x: ys.map((y) => String(y.year)), y: ys.map((y) => 100 * y.prob_at_least[t]), text: ys.map((y) => pct(y.prob_at_least[t])), textposition: "auto" }));
    const layout = layoutBase();
    layout.yaxis = { title: { text: "probability (%)" }, range: [0, 100] };
    layout.xaxis = { type: "category" };
    layout.barmode = "group";
    const a = document.getElementById("chart-targets");
    a.setAttribute("aria-label", targets.map((t) => "P(>= " + money(Number(t)) + "): " + ys.map((y) => y.year + " " + pct(y.prob_at_least[t])).join(", ")).join("; "));
    const crossing = (f.targets || []).map((t) => ({ type: "bar", name: "first year >= " + money(t.amount), x: Object.keys(t.crossing_year), y: Object.values(t.crossing_year).map((p) => 100 * p) }));
    const layout2 = layoutBase();
    layout2.yaxis = { title: { text: "share of paths (%)" }, range: [0, 100] };
    layout2.xaxis = { type: "category" };
    layout2.barmode = "group";
    const b = document.getElementById("chart-crossing");
    b.setAttribute("aria-label", (f.targets || []).map((t) => "first year reaching " + money(t.amount) + ": " + Object.entries(t.crossing_year).map(([k, p]) => k + " " + pct(p)).join(", ")).join("; "));
    return Promise.all([Plotly.react(a, probs, layout, plotConfig), Plotly.react(b, crossing, layout2, plotConfig)]);
  }

  function trackChart(record) {
    const pts = record.points;
    const x = pts.map((p) => p.data_through);
    const traces = [
      { x: x, y: pts.map((p) => inB(p.intervals["80"][0])), mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x: x, y: pts.map((p) => inB(p.intervals["80"][1])), mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(11,99,182,0.25)", name: "80% interval" },
      { x: x, y: pts.map((p) => inB(p.median)), mode: "lines+markers", name: "median (" + record.year + ")", line: { color: "#0b63b6" }, text: pts.map((p) => p.source + (p.version ? " v" + p.version : "")) },
      { x: record.references.map((r) => r.published.slice(0, 7)), y: record.references.map((r) => inB(r.value)), mode: "markers", name: "official outlooks", marker: { symbol: "diamond", size: 10, color: "#b03a2e" }, text: record.references.map((r) => r.forecaster + ": " + money(r.value) + (r.percentile !== null ? ", at the model's " + r.percentile.toFixed(0) + "th percentile" : "")), hoverinfo: "text" },
    ];
    if (record.actual !== null) {
      traces.push({ x: [x[0], x[x.length - 1]], y: [inB(record.actual), inB(record.actual)], mode: "lines", name: "actual", line: { color: "#1b1f24", dash: "dot" } });
    }
    const div = document.getElementById("chart-track");
    const last = pts[pts.length - 1];
    div.setAttribute("aria-label", "The " + record.year + " median over time, " + pts.length + " points, latest " + (last ? money(last.median) + " with data through " + last.data_through : "none") + "; " + record.references.length + " official outlooks");
    const table = document.getElementById("table-outlooks");
    table.replaceChildren();
    const head = el("tr");
    ["forecaster", "published", "figure", "the model with the data of then", "percentile in the model's distribution"].forEach((h) => head.appendChild(el("th", { scope: "col" }, h)));
    table.appendChild(head);
    record.references.forEach((r) => {
      const row = el("tr");
      [r.forecaster, r.published, money(r.value), modelThen(r), r.percentile !== null ? r.percentile.toFixed(0) + "th" : "-"].forEach((c) => row.appendChild(el("td", {}, c)));
      table.appendChild(row);
    });
    return Plotly.react(div, traces, layoutBase(), plotConfig);
  }

  // The model's point beside an outlook; one made from older data than was out on the
  // publication date says how much older, rather than passing for the model of that date.
  function modelThen(r) {
    if (r.model_median === null) return "-";
    const text = money(r.model_median) + " (data through " + r.model_data_through + ")";
    return r.model_months_behind > 0 ? text + ", " + r.model_months_behind + " months older than the data then" : text;
  }

  // Why the forecast moved from the version before: a waterfall of this year's median from
  // the previous version's to this one's, and every year's change by step in the table.
  function movesChart(moves) {
    const div = document.getElementById("chart-moves");
    const table = document.getElementById("table-moves");
    const note = document.getElementById("moves-note");
    table.replaceChildren();
    if (!moves) {
      note.textContent = "This is the series' first version: nothing has moved yet.";
      return Plotly.react(div, [], layoutBase(), plotConfig);
    }
    const year = String(moves.years[0]);
    const since = moves.since || "version " + moves.from_version;
    note.textContent = "Version " + moves.version + " against " + since + ": the steps add up to the change; the last is what they leave over.";
    const steps = moves.steps;
    const trace = {
      type: "waterfall", orientation: "v",
      x: ["before", ...steps.map((s, i) => (i + 1) + ". " + s.label), "after"],
      measure: ["absolute", ...steps.map(() => "relative"), "total"],
      y: [inB(moves.before[year].median), ...steps.map((s) => inB(s.years[year].median)), inB(moves.after[year].median)],
      connector: { line: { color: "#8a96a3" } },
      increasing: { marker: { color: "#2e7d32" } }, decreasing: { marker: { color: "#b03a2e" } }, totals: { marker: { color: "#0b63b6" } },
    };
    const layout = layoutBase();
    layout.hovermode = "closest";
    layout.yaxis = { title: { text: year + " median, " + axisUnit() } };
    layout.xaxis = { tickangle: -30, automargin: true };
    layout.showlegend = false;
    div.setAttribute("aria-label", "The " + year + " median moved from " + money(moves.before[year].median) + " to " + money(moves.after[year].median) + ": " + steps.map((s) => s.label + " " + signed(s.years[year].median)).join("; "));
    const targets = Object.keys(moves.before[year].prob_at_least);
    const head = el("tr");
    ["step", ...moves.years.map(String), ...targets.map((t) => "P(" + year + " >= " + money(Number(t)) + ")")].forEach((h) => head.appendChild(el("th", { scope: "col" }, h)));
    table.appendChild(head);
    const row = (id, label, point, sign) => {
      const r = el("tr", { id: id });
      [label, ...moves.years.map((y) => (sign ? signed : money)(point[String(y)].median)),
        ...targets.map((t) => (sign ? signedPct : pct)(point[year].prob_at_least[t]))].forEach((c) => r.appendChild(el("td", {}, c)));
      table.appendChild(r);
    };
    row("move-before", "before", moves.before, false);
    steps.forEach((s, i) => row("move-" + i, s.label, s.years, true));
    row("move-after", "after", moves.after, false);
    return Plotly.react(div, [trace], layout, plotConfig);
  }

  function signed(v) {
    return (v < 0 ? "-" : "+") + money(Math.abs(v));
  }

  function signedPct(p) {
    return (p < 0 ? "-" : "+") + (100 * Math.abs(p)).toFixed(1) + " pts";
  }

  async function render(forecast) {
    const [obs, series] = await Promise.all([
      getJSON(base + "/observations"),
      getJSON(base),
    ]);
    state.unit = forecast.unit;
    document.getElementById("title").textContent = series.body.name || cfg.series;
    const year = forecast.years[0].year;
    const record = await getJSON(base + "/track-record?year=" + year);
    const moves = forecast.moves ? (await getJSON(forecast.moves)).body : null;
    headline(forecast);
    await Promise.all([
      monthlyChart(forecast, obs.body.observations),
      annualChart(forecast, obs.body.observations),
      targetCharts(forecast),
      trackChart(record.body),
      movesChart(moves),
    ]);
    state.version = forecast.model_version;
    document.body.dataset.version = String(forecast.model_version);
    document.body.dataset.ready = "true";
  }

  function status(text) {
    document.getElementById("status").textContent = text;
  }

  async function poll() {
    try {
      const r = await getJSON(base + "/forecast", state.etag);
      const now = new Date().toLocaleTimeString();
      if (r.status === 304) {
        status("version " + state.version + ", data through " + document.getElementById("data-through").lastChild.textContent + "; checked " + now);
      } else {
        state.etag = r.etag;
        await render(r.body);
        status("version " + r.body.model_version + ", data through " + r.body.data_through +
          (preloaded ? "; report made " + r.body.generated_at : "; updated " + now));
      }
    } catch (e) {
      status("could not refresh: " + e.message);
    }
    if (!preloaded) setTimeout(poll, 1000 * (cfg.pollSeconds || 15));
  }

  poll();
})();
