"""Evaluation sits above the models it evaluates: rolling-origin backtests, scores, naive
baselines, and how `auto` learns its weights and calibration from them."""
