"""MkDocs hook: the reference pages are generated from the code, so they cannot drift.

- The configuration page's table is made from `exportcast.service.config.Settings`: one row
  per field (its environment variable, type, default and description), so a setting added
  to the class is documented by the next build.
- The API reference is made from the service's OpenAPI document (`create_app(...).openapi()`,
  which builds the app without starting it: nothing is stored or trained): every path and
  method with its summary, description, parameters, request body and responses, then every
  schema's fields. The document itself is written into the site as `openapi.json`.
- Images the pages show that live elsewhere in the repository (benchmark plots) are copied
  into the site from where they are made, so there is one copy of each.

A page asks for a generated part with a marker line: `<!-- generated: settings -->` or
`<!-- generated: openapi -->`.
"""

from __future__ import annotations

import enum
import json
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from pydantic import SecretStr
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[2]

# Pages that must carry a marker, and what replaces it.
SETTINGS_MARKER = "<!-- generated: settings -->"
OPENAPI_MARKER = "<!-- generated: openapi -->"
REQUIRED_MARKERS = {"configuration.md": SETTINGS_MARKER, "api-reference.md": OPENAPI_MARKER}

# Files of the repository outside docs/ that the site shows: site path -> repository path.
COPIED = {"img/multiyear.png": "benchmarks/multiyear.png"}

_openapi: dict[str, Any] | None = None


# --- markdown helpers ---------------------------------------------------------------------


def cell(text: object) -> str:
    """Text safe inside one cell of a Markdown table."""
    s = " ".join(str(text).split())
    return s.replace("|", "\\|") if s else ""


def code(text: object) -> str:
    s = str(text)
    fence = "``" if "`" in s else "`"
    pad = " " if "`" in s else ""
    return f"{fence}{pad}{s}{pad}{fence}".replace("|", "\\|")


# --- settings -------------------------------------------------------------------------------


def settings_class():
    from exportcast.service.config import Settings

    return Settings


def env_var(settings_cls, name: str, field) -> str:
    alias = field.validation_alias or field.alias
    if isinstance(alias, str):
        return alias.upper()
    prefix = settings_cls.model_config.get("env_prefix", "")
    return f"{prefix}{name}".upper()


def type_name(annotation: Any) -> str:
    """`Path | None` -> `Path, optional`; `Literal['a', 'b']` -> `'a' or 'b'`."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        named = [type_name(a) for a in args if a is not type(None)]
        text = " or ".join(named)
        return f"{text}, optional" if type(None) in args else text
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return type_name(typing.get_args(annotation)[0])
    if origin is not None:
        inner = ", ".join(type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is SecretStr:
        return "str (secret)"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def bounds(field) -> str:
    """The field's numeric and length limits, as `>= 1, <= 64`."""
    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=",
             "max_length": "length <="}  # fmt: skip
    found = []
    for item in field.metadata:
        for attr, word in words.items():
            value = getattr(item, attr, None)
            if value is not None:
                found.append(f"{word} {value:,}" if isinstance(value, int) else f"{word} {value}")
    return ", ".join(found)


def default_text(field) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return code(str(value).lower())
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str) and value == "":
        return '`""` (empty)'
    if isinstance(value, list | tuple | set | dict):
        return code(json.dumps(value if not isinstance(value, set) else sorted(value)))
    return code(value)


def settings_table() -> str:
    cls = settings_class()
    rows = [
        "| variable | type | default | description |",
        "|---|---|---|---|",
    ]
    for name, field in cls.model_fields.items():
        kind = type_name(field.annotation)
        limits = bounds(field)
        kind = f"{kind} ({limits})" if limits else kind
        rows.append(
            f"| `{env_var(cls, name, field)}` | {cell(kind)} | {default_text(field)} | "
            f"{cell(field.description or '')} |"
        )
    return "\n".join(rows)


# --- OpenAPI ----------------------------------------------------------------------------------


def openapi() -> dict[str, Any]:
    """The service's OpenAPI document, from an app that is built but never started."""
    global _openapi
    if _openapi is None:
        from exportcast.service.main import create_app

        with tempfile.TemporaryDirectory(prefix="exportcast-docs-") as folder:
            settings = settings_class()(
                data_dir=Path(folder), bootstrap=False, database_url="", api_token=None
            )
            _openapi = create_app(settings, run_jobs=False).openapi()
    return _openapi


def schema_type(schema: dict[str, Any] | None) -> str:
    """A short name for a JSON schema: `integer (1-30)`, `array of YearOut`, `string or null`."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#schema-{name.lower()})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            parts = []
            for sub in schema[key]:
                text = schema_type(sub)
                if text not in parts:
                    parts.append(text)
            return " or ".join(parts)
    kind = schema.get("type")
    if isinstance(kind, list):
        text = " or ".join(kind)
    elif kind == "array":
        text = f"array of {schema_type(schema.get('items'))}"
    elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        text = f"object of {schema_type(schema['additionalProperties'])}"
    elif kind:
        text = kind
        if schema.get("format"):
            text += f" ({schema['format']})"
    elif "const" in schema:
        text = json.dumps(schema["const"])
    else:
        text = "any"
    if "enum" in schema:
        values = schema["enum"]
        text += (
            f": one of {', '.join(code(v) for v in values)}"
            if len(values) <= 8
            else f": one of {len(values)} values"
        )
    limits = []
    for key, word in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
        ("minItems", "items >="),
        ("maxItems", "items <="),
        ("minLength", "length >="),
        ("maxLength", "length <="),
    ):
        if key in schema:
            limits.append(f"{word} {schema[key]}")
    if limits:
        text += f" ({', '.join(limits)})"
    return text


def media_types(content: dict[str, Any] | None) -> str:
    if not content:
        return "no body"
    parts = []
    for media, spec in content.items():
        schema = spec.get("schema")
        parts.append(f"`{media}`" + (f" {schema_type(schema)}" if schema else ""))
    return "; ".join(parts)


def operation_markdown(path: str, method: str, op: dict[str, Any]) -> list[str]:
    out = [f"### `{method.upper()} {path}`", ""]
    if op.get("summary"):
        out += [f"**{op['summary']}**", ""]
    if op.get("description"):
        out += [op["description"].strip(), ""]
    params = op.get("parameters") or []
    if params:
        out += [
            "| parameter | in | type | required | description |",
            "|---|---|---|---|---|",
        ]
        for p in params:
            schema = p.get("schema") or {}
            kind = schema_type(schema)
            if "default" in schema:
                kind += f", default {code(json.dumps(schema['default']))}"
            description = p.get("description") or schema.get("description") or ""
            out.append(
                f"| `{p['name']}` | {p['in']} | {cell(kind)} | "
                f"{'yes' if p.get('required') else 'no'} | {cell(description)} |"
            )
        out.append("")
    body = op.get("requestBody")
    if body:
        needed = "required" if body.get("required") else "optional"
        out += [f"Request body ({needed}): {media_types(body.get('content'))}", ""]
    responses = op.get("responses") or {}
    if responses:
        out += ["| response | description | body |", "|---|---|---|"]
        for status in sorted(responses, key=str):
            r = responses[status]
            out.append(
                f"| {status} | {cell(r.get('description', ''))} | "
                f"{cell(media_types(r.get('content')))} |"
            )
        out.append("")
    return out


def schema_markdown(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### {name} {{#schema-{name.lower()}}}", ""]
    if schema.get("description"):
        out += [schema["description"].strip(), ""]
    props = schema.get("properties") or {}
    if not props:
        out += [f"Type: {schema_type(schema)}", ""]
        return out
    required = set(schema.get("required") or [])
    out += ["| field | type | required | description |", "|---|---|---|---|"]
    for prop, sub in props.items():
        out.append(
            f"| `{prop}` | {cell(schema_type(sub))} | {'yes' if prop in required else 'no'} | "
            f"{cell(sub.get('description', ''))} |"
        )
    out.append("")
    return out


def openapi_markdown() -> str:
    doc = openapi()
    info = doc.get("info", {})
    out = [
        f"OpenAPI {doc.get('openapi', '')}, {info.get('title', '')} {info.get('version', '')}. "
        "The raw document: [openapi.json](openapi.json) (a running service serves it at "
        "`/openapi.json`).",
        "",
    ]
    if info.get("description"):
        out += [info["description"].strip(), ""]
    out += ["## Operations", ""]
    out += ["| method | path | summary |", "|---|---|---|"]
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            out.append(f"| {method.upper()} | `{path}` | {cell(op.get('summary', ''))} |")
    out.append("")
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            out += operation_markdown(path, method, op)
    schemas = doc.get("components", {}).get("schemas", {})
    if schemas:
        out += ["## Schemas", ""]
        for name, schema in schemas.items():
            out += schema_markdown(name, schema)
    return "\n".join(out)


# --- MkDocs events ----------------------------------------------------------------------------


def on_files(files: Files, config) -> Files:
    files.append(
        File.generated(config, "openapi.json", content=json.dumps(openapi(), indent=2) + "\n")
    )
    for site_path, repo_path in COPIED.items():
        source = ROOT / repo_path
        if not source.is_file():
            raise PluginError(f"{repo_path} is missing: the docs show it as {site_path}")
        files.append(File.generated(config, site_path, abs_src_path=str(source)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    src = page.file.src_uri
    needed = REQUIRED_MARKERS.get(src)
    if needed and needed not in markdown:
        raise PluginError(f"{src} must contain the line {needed}")
    if SETTINGS_MARKER in markdown:
        markdown = markdown.replace(SETTINGS_MARKER, settings_table())
    if OPENAPI_MARKER in markdown:
        markdown = markdown.replace(OPENAPI_MARKER, openapi_markdown())
    return markdown
