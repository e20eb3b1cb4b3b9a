"""A batch upload's body, JSON or CSV, decoded with every way it can be unreadable named:
the one reader the observation and flash routes share."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from pydantic import BaseModel

from exportcast.models.validate import Problem, SeriesError

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
