"""Errors as JSON bodies that name what is wrong."""

from __future__ import annotations

from fastapi import Request, status
from fastapi.responses import JSONResponse

from exportcast.models.validate import SeriesError
from exportcast.service.store import Conflict, NotFound


def rejected(exc: SeriesError, what: str = "batch") -> JSONResponse:
    errors = [
        {"message": p.message, "line": p.line, "where": p.where, "month": p.month}
        for p in exc.problems
    ]
    n = len(errors)
    return JSONResponse(
        {
            "detail": f"{what} rejected, nothing stored: {n} problem{'s' if n != 1 else ''}",
            "errors": errors,
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def on_series_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SeriesError)
    return rejected(exc)


async def on_not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc).strip("'\"")}, status_code=404)


async def on_conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


HANDLERS = {SeriesError: on_series_error, NotFound: on_not_found, Conflict: on_conflict}
