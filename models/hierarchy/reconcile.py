"""Coherent sample paths: node draws coupled, then reconciled path by path.

Each node is forecast on its own, so its draws carry no relation to the others': summed as
they are, the items' spread would be too narrow (exports of chips and cars rise and fall
together). The draws are first *coupled*: reordered, node by node, so that their ranks
follow a Gaussian copula with the correlation of the nodes' past year-on-year growth
(each node keeps exactly its own distribution). Then every path is *reconciled*: mapped by
one linear map so that the bottom nodes add up to the total: bottom-up (the items' sum is
the total); MinT (Wickramasuriya, Athanasopoulos and Hyndman, 2019), which weighs the
total's own forecast against the items' sum by their covariance, shrunk towards its
diagonal (Schäfer and Strimmer, 2005); or anchored on the total (its own forecast kept,
the gap to the items' sum shared among them by the same covariance). Everything here is
pure numpy on arrays whose first axis is the node (total, items..., other).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("bottom_up", "mint_shrink", "total_anchored", "top_down")
# Methods whose total is not the total's own forecast: their spread is calibrated afresh.
RECOMBINED = ("bottom_up", "mint_shrink")
GROWTH_MONTHS = 60  # months of year-on-year growth the coupling's correlation is read from


@dataclass(frozen=True)
class Shrunk:
    covariance: np.ndarray
    intensity: float  # 0: the sample covariance; 1: its diagonal alone


def shrunk_covariance(samples: np.ndarray) -> Shrunk:
    """Covariance of `samples` (n, k), off-diagonal correlations shrunk towards zero by the
    intensity that minimises the expected squared error (Schäfer and Strimmer's target D)."""
    x = np.asarray(samples, dtype=float)
    n, k = x.shape
    if n < 3:
        raise ValueError("at least 3 samples are needed for a covariance")
    centred = x - x.mean(axis=0)
    sd = centred.std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    z = centred / sd
    products = z[:, :, None] * z[:, None, :]  # (n, k, k)
    mean = products.mean(axis=0)
    correlation = mean * n / (n - 1)
    spread = ((products - mean) ** 2).sum(axis=0) * n / (n - 1) ** 3
    off = ~np.eye(k, dtype=bool)
    denominator = float(np.sum(correlation[off] ** 2))
    intensity = 1.0 if denominator == 0 else float(np.sum(spread[off]) / denominator)
    intensity = min(max(intensity, 0.0), 1.0)
    shrunk = np.where(off, (1 - intensity) * correlation, 1.0)
    return Shrunk(shrunk * np.outer(sd, sd), intensity)


def correlation_of(covariance: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(covariance))
    return covariance / np.outer(sd, sd)


def growth_correlation(values: np.ndarray, months: int = GROWTH_MONTHS) -> Shrunk:
    """Shrunk correlation of the nodes' year-on-year log growth over their last `months`
    months; `values` is (nodes, months), the months the nodes share, oldest first."""
    values = np.asarray(values, dtype=float)
    growth = np.log(values[:, 12:] / values[:, :-12])[:, -months:]
    if growth.shape[1] < 3:
        raise ValueError("at least 15 months are needed for the nodes' growth correlation")
    shrunk = shrunk_covariance(growth.T)
    return Shrunk(correlation_of(shrunk.covariance), shrunk.intensity)


def coupling_order(
    draws: np.ndarray, correlation: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """For draws (nodes, n), the order (nodes, n) that gives each node's draws, as
    `draws[i][order[i]]`, the ranks of a joint normal sample with `correlation`: each
    node's own draws, now moving together as the nodes have."""
    draws = np.asarray(draws)
    k, n = draws.shape
    chol = np.linalg.cholesky(correlation)
    normal = chol @ rng.standard_normal((k, n))
    ranks = np.argsort(np.argsort(normal, axis=1), axis=1)
    return np.take_along_axis(np.argsort(draws, axis=1), ranks, axis=1)


def two_level(n_bottom: int) -> np.ndarray:
    """S of a total over `n_bottom` nodes, (1 + n_bottom, n_bottom)."""
    return np.vstack([np.ones(n_bottom), np.eye(n_bottom)])


def mint_combination(summing: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """G, (bottom, nodes), of MinT: bottom = G @ base minimises the trace of the reconciled
    forecasts' error covariance, given the base forecasts' `covariance` W."""
    w_inv_s = np.linalg.solve(covariance, summing)  # W^-1 S
    return np.linalg.solve(summing.T @ w_inv_s, w_inv_s.T)  # (S' W^-1 S)^-1 S' W^-1


def bottom_up_combination(n_bottom: int) -> np.ndarray:
    """G of bottom-up: the bottom nodes as they are, the total's own forecast unused."""
    return np.hstack([np.zeros((n_bottom, 1)), np.eye(n_bottom)])


def anchored_combination(bottom_covariance: np.ndarray) -> np.ndarray:
    """G that keeps the total's own forecast and shares its gap with the items' sum among
    the bottom nodes as MinT would with the total known: bottom = b + c (y - 1'b), where
    c = W 1 / 1'W 1 (`bottom_covariance` is W of the bottom nodes), so 1'c = 1."""
    ones = np.ones(bottom_covariance.shape[0])
    c = bottom_covariance @ ones / (ones @ bottom_covariance @ ones)
    return np.hstack([c[:, None], np.eye(len(ones)) - np.outer(c, ones)])


def combination(
    method: str, summing: np.ndarray, base_unknown: np.ndarray
) -> tuple[np.ndarray, float | None]:
    """G for `method`, and MinT's shrinkage intensity; `base_unknown` (nodes, n) are the
    coupled draws of what is not yet published of the first year, whose covariance is W."""
    if method == "bottom_up":
        return bottom_up_combination(summing.shape[1]), None
    if method == "mint_shrink":
        shrunk = shrunk_covariance(np.asarray(base_unknown, dtype=float).T)
        return mint_combination(summing, shrunk.covariance), shrunk.intensity
    if method == "total_anchored":
        shrunk = shrunk_covariance(np.asarray(base_unknown, dtype=float)[1:].T)
        return anchored_combination(shrunk.covariance), shrunk.intensity
    raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")


def reconcile(base: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Coherent values (nodes, ...) from base values (nodes, ...): bottom = G @ base, path
    by path (any trailing axes), floored at zero, and the total their sum, so the nodes
    add up exactly (the total is computed as that sum, not as a matrix product)."""
    bottom = np.maximum(np.tensordot(g, np.asarray(base, dtype=float), axes=1), 0.0)
    return np.concatenate([bottom.sum(axis=0, keepdims=True), bottom])


def proportional(base: np.ndarray) -> np.ndarray:
    """Top-down by forecast proportions, path by path: the total's own value kept, each
    bottom node scaled by the same factor so they add up to it (positive stays positive)."""
    base = np.asarray(base, dtype=float)
    bottom = base[1:] * (base[0] / base[1:].sum(axis=0))
    return np.concatenate([bottom.sum(axis=0, keepdims=True), bottom])


def together_factor(total_unknown: np.ndarray, scale: float) -> np.ndarray:
    """Per path, the factor that widens (scale > 1) or narrows the total's unknown part
    around its median on the log scale; every node of a path is multiplied by its path's
    factor, so the nodes still add up (and stay positive)."""
    total = np.maximum(np.asarray(total_unknown, dtype=float), 1e-12)
    if scale == 1.0:  # exactly as reconciled (the log round trip would move the last bits)
        return np.ones_like(total)
    log_total = np.log(total)
    centre = np.median(log_total)
    return np.exp(centre + scale * (log_total - centre)) / total


@dataclass(frozen=True)
class Plan:
    """How one set of node draws is made coherent: the coupling order of each node's
    paths, the map G, and the factor each path is then widened by."""

    order: np.ndarray  # (nodes, n)
    g: np.ndarray | None  # (bottom, nodes); None: proportional (top-down)
    factor: np.ndarray  # (n,)
    record: dict

    def apply(self, base: np.ndarray) -> np.ndarray:
        """Coherent values (nodes, n, ...) from base values (nodes, n, ...): coupled,
        reconciled path by path, then widened together."""
        base = np.asarray(base, dtype=float)
        order = self.order.reshape(self.order.shape + (1,) * (base.ndim - 2))
        coupled = np.take_along_axis(base, order, axis=1)
        coherent = reconcile(coupled, self.g) if self.g is not None else proportional(coupled)
        factor = self.factor.reshape((1, -1) + (1,) * (base.ndim - 2))
        bottom = coherent[1:] * factor
        return np.concatenate([bottom.sum(axis=0, keepdims=True), bottom])


def plan(
    unknown: np.ndarray,
    history: np.ndarray,
    method: str,
    rng: np.random.Generator,
    scale: float = 1.0,
) -> Plan:
    """The plan for draws whose unknown part of the year in progress is `unknown` (nodes,
    n), coupled by the growth of `history` (nodes, months), reconciled by `method`, the
    result widened by `scale` (learned from past reconciled cases; 1: as reconciled)."""
    correlation = growth_correlation(history)
    order = coupling_order(unknown, correlation.covariance, rng)
    coupled = np.take_along_axis(np.asarray(unknown, dtype=float), order, axis=1)
    if method == "top_down":
        g, intensity = None, None
        coherent = proportional(coupled)
    else:
        g, intensity = combination(method, two_level(len(unknown) - 1), coupled)
        coherent = reconcile(coupled, g)
    factor = together_factor(coherent[0], scale)
    record = {
        "method": method,
        "coupling": {
            "growth_months": int(min(GROWTH_MONTHS, history.shape[1] - 12)),
            "shrinkage": round(correlation.intensity, 4),
        },
        # How much of the total's own forecast the coherent total keeps (the rest: the
        # items' sum): G's weights on the total, summed over the bottom nodes.
        "weight_on_total_forecast": 1.0 if g is None else round(float(g[:, 0].sum()), 4),
        "calibration_scale": round(float(scale), 4),
    }
    if intensity is not None:
        record["covariance_shrinkage"] = round(intensity, 4)
    return Plan(order, g, factor, record)
