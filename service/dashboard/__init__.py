"""The dashboard: one page per series, drawn in the browser from the API with plotly.js
(shipped inside the plotly package, served from here: no CDN), polling with If-None-Match
so an idle page costs the server a 304."""
