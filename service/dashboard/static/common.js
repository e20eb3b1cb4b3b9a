// What every exportcast page shares: numbers as people read them, and small DOM helpers.
"use strict";

window.exportcastCommon = (function () {
  // $709.3B for USD millions, else the number and its unit.
  function money(v, unit) {
    if (v === null || v === undefined || !isFinite(v)) return "-";
    if (unit === "USD millions") {
      return "$" + (v / 1000).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + "B";
    }
    return v.toLocaleString("en-US", { maximumFractionDigits: 1 }) + " " + unit;
  }
  const inB = (v, unit) => (unit === "USD millions" ? v / 1000 : v);
  const axisUnit = (unit) => (unit === "USD millions" ? "USD billions" : unit);

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function card(id, label, value) {
    const c = el("div", { class: "card", id: id });
    c.appendChild(el("div", { class: "label" }, label));
    c.appendChild(el("div", { class: "value" }, value));
    return c;
  }

  // A session that expired (the service requires its token for reads) answers 401: sign
  // in again and come back here.
  function signInIfRefused(r) {
    if (r.status !== 401) return false;
    window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    return true;
  }

  // A page's body polled every `seconds` with If-None-Match: `render(body)` draws a new one
  // and returns its version; the status line says what was seen. `waiting` maps a status
  // the page expects before there is anything to draw (409: no version yet) to its words.
  function follow(url, seconds, render, updated, waiting) {
    let etag = null;
    let version = null;
    const status = (text) => { document.getElementById("status").textContent = text; };
    async function poll() {
      try {
        const r = await fetch(url, { headers: etag ? { "If-None-Match": etag } : {} });
        if (signInIfRefused(r)) return;
        const now = new Date().toLocaleTimeString();
        if (r.status === 304) {
          status("version " + version + "; checked " + now);
        } else if (waiting[r.status]) {
          status(waiting[r.status] + "; checked " + now);
        } else if (!r.ok) {
          throw new Error(url + " answered " + r.status);
        } else {
          etag = r.headers.get("ETag");
          const body = await r.json();
          version = await render(body);
          status(updated(body) + "; updated " + now);
        }
      } catch (e) {
        status("could not refresh: " + e.message);
      }
      setTimeout(poll, 1000 * (seconds || 15));
    }
    poll();
  }

  return {
    money: money, inB: inB, axisUnit: axisUnit, el: el, card: card,
    signInIfRefused: signInIfRefused, follow: follow,
  };
})();
