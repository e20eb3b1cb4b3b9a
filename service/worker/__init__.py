"""Retraining off the request path: each service process runs one `Worker`, which claims
jobs from the store and runs them in training processes of its own (`slots`), and in the
slots no job needs, fits ahead, makes backtest track records and hierarchy versions.

- `loop`: the worker's loop, choosing what each free slot does next.
- `slots`: one training process per slot, with a timeout, discarded when it crashes.
- `retrain`: a job, from the series in the store to a served version, under the job's lease.
- `ahead`: work for later (the next month's backtest fits, the track record at every m).
- `hierarchy_versions`: coherent versions of declared hierarchies once their series rest.
- `hierarchy_fits`: what a hierarchy version is made of, in a slot's process.
"""
