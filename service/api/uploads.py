"""A batch upload's body, JSON or CSV, decoded with every way it can be unreadable named,
and what its route documents and answers: one reader for the observation and flash routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from pydantic import BaseModel

from exportcast.models.validate import Problem, SeriesError
from exportcast.service.schemas import Error, JobRef

Rows = TypeVar("Rows")


async def read_upload(
    request: Request, from_json: Callable[[Any], Rows], from_csv: Callable[[str], Rows]
) -> Rows:
    """The body's rows through `from_json` (a parsed document) or `from_csv` (text)."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    raw = await request.body()
    if kind in ("application/json", ""):
        try:
            payload = json.loads(raw or b"null")
        except RecursionError:  # "[[[[...": deeper than the parser can go
            raise SeriesError([Problem("body is not valid JSON: nested too deeply")]) from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an int of 4300+ digits
            raise SeriesError([Problem(f"body is not valid JSON: {exc}")]) from None
        return from_json(payload)
    if kind in ("text/csv", "text/plain"):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SeriesError([Problem("CSV body is not UTF-8")]) from None
        return from_csv(text)
    raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send application/json or text/csv")


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its definitions written in place: the route reads its
    body itself (JSON or CSV), so FastAPI never adds the model to the document's components
    and a `$ref` to them would point nowhere."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def upload_body(model: type[BaseModel], json_example: Any, csv_example: str) -> dict[str, Any]:
    """The route's `openapi_extra`: its body in JSON (the model, inlined) or CSV."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": inline_schema(model), "example": json_example},
                "text/csv": {"schema": {"type": "string"}, "example": csv_example},
            },
        }
    }


UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Error, "description": "bad rows, all named; nothing stored"},
    413: {"model": Error, "description": "a body over EXPORTCAST_MAX_BODY_BYTES; nothing read"},
    404: {"model": Error},
    415: {"model": Error},
}


def queued_job(job_id: int | None, runner: Any) -> JobRef | None:
    """The retrain a stored batch queued, with the runner told to look now."""
    if job_id is None:
        return None
    if runner is not None:
        runner.nudge()
    return JobRef(id=job_id, status_url=f"/v1/jobs/{job_id}")
