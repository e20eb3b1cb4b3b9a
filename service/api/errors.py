"""Errors as JSON bodies that name what is wrong, all of one schema (`schemas.Error`)."""

from __future__ import annotations

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from exportcast.models.validate import SeriesError
from exportcast.service.schemas import Error, Problem
from exportcast.service.store import Conflict, NotFound


def error_response(status_code: int, body: Error) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status_code)


def rejected(exc: SeriesError, what: str = "batch") -> JSONResponse:
    errors = [
        Problem(message=p.message, line=p.line, where=p.where, month=p.month) for p in exc.problems
    ]
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
        Problem(message=str(e.get("msg", "invalid")), where=".".join(str(x) for x in e["loc"]))
        for e in exc.errors()
    ]
    detail = "; ".join(f"{p.where}: {p.message}" for p in problems) or "invalid request"
    return error_response(
        status.HTTP_422_UNPROCESSABLE_CONTENT, Error(detail=detail, errors=problems)
    )


async def on_not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, Error(detail=str(exc).strip("'\"")))


async def on_conflict(request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, Error(detail=str(exc)))


HANDLERS = {
    SeriesError: on_series_error,
    RequestValidationError: on_invalid_request,
    NotFound: on_not_found,
    Conflict: on_conflict,
}
