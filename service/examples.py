"""Real outputs for the OpenAPI examples: the service's default forecast bodies for the
bundled series, trimmed to two years and two months so the docs stay readable.

`python -m exportcast.service.examples` rewrites `service/examples.json` (after a model or
data change); the tests check the file against a fresh run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from exportcast.models.datasets import BUNDLED, load_bundled
from exportcast.models.limits import DEFAULT_PATHS
from exportcast.models.parallel import process_pool
from exportcast.service import artifacts
from exportcast.service.config import get_settings
from exportcast.service.serving.active import prepare
from exportcast.service.worker.retrain import TrainRequest, train, version_of

SERIES = "kr-exports"
CREATED_AT = "2026-06-15T09:00:00.000000Z"  # as if trained the day June's flash came out
SHOWN = 2


def build(cache_dir: Path, n_paths: int = DEFAULT_PATHS) -> dict[str, Any]:
    series = load_bundled(SERIES)
    with process_pool(1) as pool:  # as the service trains: a worker with one BLAS thread
        sim = pool.submit(train, TrainRequest(series, "auto", n_paths, 0, cache_dir)).result()
    record, _ = version_of(sim, CREATED_AT, version=1)
    served = prepare(artifacts.as_stored(sim), record, BUNDLED[SERIES].targets)
    annual = json.loads(served.default_bodies["annual"].content)
    monthly = json.loads(served.default_bodies["monthly"].content)
    annual["years"] = annual["years"][:SHOWN]
    annual["monthly"] = annual["monthly"][:SHOWN]
    monthly["monthly"] = monthly["monthly"][:SHOWN]
    return {"forecast": annual, "monthly": monthly}


def main() -> int:
    examples = build(get_settings().fit_cache())
    path = Path(__file__).with_name("examples.json")
    path.write_text(json.dumps(examples, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
