"""What `auto` learns across series: a prior pooled once from thousands of monthly series,
updated by each series' own backtest cases.

`features` describes a series; `evidence` turns backtest cases into plain numbers; `pooled`
is the prior (a small versioned file shipped in the package); `posterior` combines the two
at a months-known; `build` makes the prior from the competition data sets.
"""
