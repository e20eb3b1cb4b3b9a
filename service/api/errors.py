"""Errors as JSON bodies that name what is wrong, all of one schema (`schemas.Error`)."""

from __future__ import annotations

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from exportcast.models.validate import SeriesError
from exportcast.service.schemas import Error, Problem
from exportcast.service.store import Conflict, NotFound, StoreUnavailable

MAX_TEXT = 500  # characters of any one string an error body carries


def sendable(text: str) -> str:
    """`text` cut to MAX_TEXT characters and with lone surrogates escaped: a request can
    carry them (JSON "\\ud800"), UTF-8 cannot, and an error quoting one must still be sent."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _problem(message: str, line: int | None, where: str | None, month: str | None) -> Problem:
    return Problem(
        message=sendable(message),
        line=line,
        where=sendable(where) if where is not None else None,
        month=sendable(month) if month is not None else None,
    )


def error_response(status_code: int, body: Error) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status_code)


def rejected(exc: SeriesError, what: str = "batch") -> JSONResponse:
    errors = [_problem(p.message, p.line, p.where, p.month) for p in exc.problems]
    n = len(errors)
    detail = f"{what} rejected, nothing stored: {n} problem{'s' if n != 1 else ''}"
    body = Error(detail=detail, errors=errors)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def on_series_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SeriesError)
    return rejected(exc)


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own parameter and body checks, in the same shape as every other error."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        _problem(str(e.get("msg", "invalid")), None, ".".join(str(x) for x in e["loc"]), None)
        for e in exc.errors()
    ]
    detail = "; ".join(f"{p.where}: {p.message}" for p in problems) or "invalid request"
    return error_response(
        status.HTTP_422_UNPROCESSABLE_CONTENT, Error(detail=detail, errors=problems)
    )


async def on_not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, Error(detail=sendable(str(exc).strip("'\""))))


async def on_conflict(request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, Error(detail=sendable(str(exc))))


async def on_store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The store cannot be trusted: nothing was read from it or written to it."""
    return error_response(503, Error(detail=sendable(str(exc))))


HANDLERS = {
    StoreUnavailable: on_store_unavailable,
    SeriesError: on_series_error,
    RequestValidationError: on_invalid_request,
    NotFound: on_not_found,
    Conflict: on_conflict,
}
