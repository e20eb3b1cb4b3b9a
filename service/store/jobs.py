"""Retrain jobs: queued by a batch, claimed by one worker under a lease it keeps alive with
heartbeats, queued again when the lease lapses, and finished only by the lease's holder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from exportcast.service.store.base import Job, Lease, LeaseLost, NotFound, stamp, utc_now
from exportcast.service.store.transactions import SqlBase

_JOB_COLUMNS = (
    "id, series_id, status, created_at, started_at, finished_at, model_version, error, attempts"
)


class JobTables(SqlBase):
    @staticmethod
    def _job(row: Sequence[Any]) -> Job:
        return Job(*row)

    def _queue(self, cur: Any, series_id: str) -> Job:
        # A queued job reads the data when it starts, so it covers every batch before it.
        cur.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE series_id = ? AND status = 'queued'",
            (series_id,),
        )
        row = cur.fetchone()
        if row:
            return self._job(row)
        cur.execute(
            "INSERT INTO jobs (series_id, status, created_at) VALUES (?, 'queued', ?)",
            (series_id, stamp(utc_now())),
        )
        cur.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE series_id = ? AND status = 'queued'",
            (series_id,),
        )
        return self._job(cur.fetchone())

    def claim_job(
        self,
        worker: str,
        lease_seconds: float,
        max_attempts: int = 3,
        backoff_seconds: float = 5.0,
    ) -> Job | None:
        # Every worker asks several times a second; a read answers the usual "nothing to
        # do" without taking the write lock.
        with self._read() as cur:
            cur.execute("SELECT 1 FROM jobs WHERE status IN ('queued', 'running') LIMIT 1")
            if cur.fetchone() is None:
                return None
        now = utc_now()
        with self._write() as cur:
            self._recover_abandoned(cur, now, lease_seconds, max_attempts, backoff_seconds)
            cur.execute(
                "SELECT id FROM jobs WHERE status = 'queued' "
                "AND (not_before IS NULL OR not_before <= ?) AND series_id NOT IN "
                "(SELECT series_id FROM jobs WHERE status = 'running') ORDER BY id LIMIT 1",
                (stamp(now),),
            )
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(
                "UPDATE jobs SET status = 'running', started_at = ?, heartbeat_at = ?, "
                "worker = ?, attempts = attempts + 1 WHERE id = ?",
                (stamp(now), stamp(now), worker, row[0]),
            )
            cur.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (row[0],))
            return self._job(cur.fetchone())

    def _recover_abandoned(
        self,
        cur: Any,
        now: datetime,
        lease_seconds: float,
        max_attempts: int,
        backoff_seconds: float,
    ) -> None:
        """Running jobs whose worker stopped heartbeating: queued again, or failed once
        they have been started `max_attempts` times. A series that already has a queued
        job (a later batch) keeps that one, which reads all the data when it starts."""
        cur.execute(
            "SELECT id, series_id, attempts FROM jobs WHERE status = 'running' "
            "AND heartbeat_at < ? ORDER BY id",
            (stamp(now - timedelta(seconds=lease_seconds)),),
        )
        for job_id, series_id, attempts in cur.fetchall():
            cur.execute(
                "SELECT id FROM jobs WHERE series_id = ? AND status = 'queued'", (series_id,)
            )
            queued = cur.fetchone()
            if attempts >= max_attempts or queued is not None:
                reason = (
                    f"the worker running it stopped responding; its data is in job {queued[0]}"
                    if queued is not None
                    else f"the worker running it stopped responding {attempts} times"
                )
                cur.execute(
                    "UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                    (stamp(now), reason, job_id),
                )
                continue
            delay = backoff_seconds * 2 ** max(attempts - 1, 0)
            cur.execute(
                "UPDATE jobs SET status = 'queued', not_before = ?, worker = NULL, error = ? "
                "WHERE id = ?",
                (
                    stamp(now + timedelta(seconds=delay)),
                    f"the worker running it stopped responding; run again (attempt "
                    f"{attempts + 1} of {max_attempts})",
                    job_id,
                ),
            )

    def queue_job(self, series_id: str) -> Job:
        with self._write() as cur:
            cur.execute("SELECT 1 FROM series WHERE id = ?", (series_id,))
            if cur.fetchone() is None:
                raise NotFound(f"no series {series_id!r}")
            return self._queue(cur, series_id)

    def heartbeat(self, lease: Lease) -> bool:
        with self._write() as cur:
            cur.execute(
                "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND status = 'running' "
                "AND worker = ? AND attempts = ?",
                (stamp(utc_now()), lease.job_id, lease.worker, lease.attempt),
            )
            return cur.rowcount > 0

    def _holds(self, cur: Any, lease: Lease) -> None:
        """LeaseLost unless the job still runs for the lease's worker (checked inside the
        writer's transaction, so a recovery cannot slip in between)."""
        cur.execute("SELECT status, worker, attempts FROM jobs WHERE id = ?", (lease.job_id,))
        row = cur.fetchone()
        if row is None or (row[0], row[1], row[2]) != ("running", lease.worker, lease.attempt):
            now = "gone" if row is None else f"{row[0]} for {row[1] or 'nobody'}, attempt {row[2]}"
            raise LeaseLost(f"job {lease.job_id} is no longer {lease.worker}'s (it is {now})")

    def finish_job(
        self,
        job_id: int,
        status: str,
        version: int | None = None,
        error: str | None = None,
        lease: Lease | None = None,
    ) -> Job:
        with self._write() as cur:
            if lease is not None:
                self._holds(cur, lease)
            cur.execute(
                "UPDATE jobs SET status = ?, finished_at = ?, model_version = ?, error = ? "
                "WHERE id = ?",
                (status, stamp(utc_now()), version, error, job_id),
            )
        return self.get_job(job_id)

    def get_job(self, job_id: int) -> Job:
        with self._read() as cur:
            cur.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"no job {job_id}")
        return self._job(row)

    def busy_series(self) -> set[str]:
        with self._read() as cur:
            cur.execute("SELECT DISTINCT series_id FROM jobs WHERE status IN ('queued', 'running')")
            return {r[0] for r in cur.fetchall()}
