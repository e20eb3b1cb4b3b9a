"""The image's install, without Docker: build a wheel from exactly what the Dockerfile copies,
install it into a fresh virtual environment that sees only the runtime dependencies, and run
`exportcast serve` from there, outside the checkout.

What this catches: a package folder missing from pyproject.toml, a data file not shipped, an
import of the generic top-level `models`/`service` names, a console script that points
nowhere, a runtime import of a dev-only dependency.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.service_helpers import TOKEN, free_port

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "exportcast"
COPIED = {"pyproject.toml", "README.md", "models", "service"}  # what the Dockerfile COPYs
PIP_QUIET = ["--disable-pip-version-check", "--no-input", "--no-cache-dir", "-q"]


def dockerfile_sources() -> set[str]:
    """The sources of every COPY in the Dockerfile, so this test follows it."""
    sources: set[str] = set()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words and words[0].upper() == "COPY":
            args = [w for w in words[1:] if not w.startswith("--")]
            sources.update(a.rstrip("/").removeprefix("./") for a in args[:-1])
    return sources


def base_python() -> str:
    """The interpreter the dev venv was made from, so the new venv is not nested in it."""
    exe = getattr(sys, "_base_executable", None)
    if exe and Path(exe).exists() and Path(exe).parent != Path(sys.prefix) / "bin":
        return exe
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in (f"python{version}", f"python{sys.version_info.major}", "python"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            return str(candidate)
    raise AssertionError(f"no base interpreter under {sys.base_prefix}")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would put other code on the new venv's path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "PIP_", "EXPORTCAST_"))
        and k not in {"VIRTUAL_ENV", "CONDA_PREFIX", "__PYVENV_LAUNCHER__"}
    }
    return env | {"PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1"} | extra


def run(cmd: list[str], timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done


def requirements(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    """The requirements that apply with these extras requested ("" = none), on this machine."""
    found = []
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in {"", *extras}):
            found.append(req)
    return found


def wheel_distribution(wheel: Path) -> metadata.Distribution:
    """The metadata of the built wheel itself: its requirements are what gets installed,
    even if the dev venv's editable install predates a change to pyproject.toml."""
    with zipfile.ZipFile(wheel) as z:
        (info,) = {n.split("/")[0] for n in z.namelist() if n.split("/")[0].endswith(".dist-info")}
    return metadata.PathDistribution(zipfile.Path(wheel, f"{info}/"))


def runtime_closure(root: metadata.Distribution) -> dict[str, metadata.Distribution]:
    """Every installed distribution `root` needs at run time (no extras of its own),
    recursively, following the extras its requirements ask for, such as uvicorn[standard]."""
    wanted: dict[str, set[str]] = {}
    dists: dict[str, metadata.Distribution] = {}
    todo = [(r.name, frozenset(r.extras)) for r in requirements(root, set())]
    while todo:
        req_name, extras = todo.pop()
        key = canonicalize_name(req_name)
        if key in wanted and extras <= wanted[key]:
            continue
        try:
            dist = metadata.distribution(req_name)
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{req_name} is required but not installed") from None
        wanted.setdefault(key, set()).update(extras)
        dists[key] = dist
        todo.extend((r.name, frozenset(r.extras)) for r in requirements(dist, wanted[key]))
    return dists


def expose(dists: dict[str, metadata.Distribution], folder: Path) -> None:
    """Symlink each distribution's top-level files and folders (from its RECORD), its
    .dist-info included, into one folder."""
    folder.mkdir()
    for key, dist in dists.items():
        files = dist.files
        assert files is not None, f"{key} has no RECORD; cannot tell its files"
        tops = {f.parts[0] for f in files if f.parts and ".." not in f.parts}
        tops -= {"__pycache__"}
        tops = {t for t in tops if not t.startswith("__editable__")}
        assert any(t.endswith((".dist-info", ".egg-info")) for t in tops), (key, tops)
        for top in sorted(tops):
            source = Path(dist.locate_file(top))
            link = folder / top
            if link.is_symlink():
                assert link.resolve() == source.resolve(), f"{top} is in two places"
            elif source.exists():
                link.symlink_to(source, target_is_directory=source.is_dir())


PROBE = r"""
import importlib, importlib.metadata as md, json, sys
import exportcast.service.main, exportcast.models.series
out = {
    "main": exportcast.service.main.__file__,
    "series": exportcast.models.series.__file__,
    "prefix": sys.prefix,
    "path": sys.path,
    "modules": {},
    "dists": {},
}
for name in ("models", "service", "pytest", "hypothesis"):
    try:
        importlib.import_module(name)
        out["modules"][name] = "imported"
    except ImportError as exc:
        out["modules"][name] = type(exc).__name__
for name in sys.argv[1:]:
    try:
        md.distribution(name)
        out["dists"][name] = "found"
    except md.PackageNotFoundError:
        out["dists"][name] = "missing"
print(json.dumps(out))
"""


def stop(process: subprocess.Popen) -> None:
    """Terminate the server and everything it started (its own process group)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):  # any straggler in the group
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


def test_built_wheel_serves_from_a_fresh_venv(trained_store, tmp_path):
    assert dockerfile_sources() == COPIED, "the Dockerfile copies something else now"
    started = time.monotonic()

    # A fresh venv, from the base interpreter, made while the wheel builds.
    venv = tmp_path / "venv"
    making_venv = subprocess.Popen(
        [base_python(), "-m", "venv", str(venv)],
        env=clean_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # 1. What the Dockerfile copies, built into a wheel, offline.
        context = tmp_path / "context"
        context.mkdir()
        for name in sorted(COPIED):
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(
                    source, context / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                shutil.copy2(source, context / name)
        wheels = tmp_path / "wheels"
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                *PIP_QUIET,
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "-w",
                str(wheels),
                str(context),
            ],
            cwd=tmp_path,
        )
        (wheel,) = wheels.glob(f"{PROJECT}-*.whl")
        venv_out, _ = making_venv.communicate(timeout=180)
    finally:
        if making_venv.poll() is None:
            making_venv.kill()
            making_venv.wait()
    assert making_venv.returncode == 0, venv_out
    python = venv / "bin" / "python"
    home = dict(
        line.split(" = ", 1)
        for line in (venv / "pyvenv.cfg").read_text().splitlines()
        if " = " in line
    )["home"]
    if sys.prefix != sys.base_prefix:
        assert Path(home).resolve() != (Path(sys.prefix) / "bin").resolve(), (
            "made from the dev venv"
        )

    # 2. Only the runtime closure, visible through a .pth; then the wheel, no deps, no index.
    built = wheel_distribution(wheel)
    closure = runtime_closure(built)
    assert canonicalize_name(PROJECT) not in closure, "exportcast requires itself?"
    runtime = tmp_path / "runtime"
    expose(closure, runtime)
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        env=clean_env(),
        cwd=tmp_path,
    ).stdout.strip()
    # What venv itself installs (pip, and setuptools on 3.11) is not a leak from the dev venv.
    own = {canonicalize_name(p.name.split("-")[0]) for p in Path(site).glob("*.dist-info")}
    (Path(site) / "exportcast-runtime.pth").write_text(
        f"import site; site.addsitedir({str(runtime)!r})\n"
    )
    run(
        [str(python), "-m", "pip", "install", *PIP_QUIET, "--no-deps", "--no-index", str(wheel)],
        env=clean_env(),
        cwd=tmp_path,
    )
    installed = time.monotonic() - started

    # 3. Imports resolve inside the new venv; no generic top-level names; no dev extras.
    outside = tmp_path / "outside"
    outside.mkdir()
    dev_only = sorted(
        {canonicalize_name(r.name) for r in requirements(built, {"dev"})}
        - {canonicalize_name(r.name) for r in requirements(built, set())}
        - set(closure)
        - own
    )
    assert {"pytest", "hypothesis"} <= set(dev_only), dev_only
    probe = json.loads(
        run([str(python), "-c", PROBE, *dev_only], env=clean_env(), cwd=outside, timeout=120).stdout
    )
    venv_root = venv.resolve()
    for module in ("main", "series"):
        where = Path(probe[module]).resolve()
        assert where.is_relative_to(venv_root), (module, where)
        assert not where.is_relative_to(ROOT), (module, where)
    assert Path(probe["prefix"]).resolve() == venv_root, probe["prefix"]
    dev_site = Path(sysconfig.get_path("purelib")).resolve()
    for entry in probe["path"]:
        if entry:
            assert not Path(entry).resolve().is_relative_to(ROOT), entry
            assert Path(entry).resolve() != dev_site, entry
    assert probe["modules"] == {
        "models": "ModuleNotFoundError",
        "service": "ModuleNotFoundError",
        "pytest": "ModuleNotFoundError",
        "hypothesis": "ModuleNotFoundError",
    }, probe["modules"]
    assert set(probe["dists"].values()) <= {"missing"}, probe["dists"]

    # 4. The console script serves the bundled series, from a directory outside the checkout.
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    extra = {
        "EXPORTCAST_DATA_DIR": str(data),
        "EXPORTCAST_API_TOKEN": TOKEN,
        "EXPORTCAST_HOST": "127.0.0.1",
        "EXPORTCAST_N_PATHS": "400",
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    if os.environ.get("EXPORTCAST_CACHE_DIR"):
        extra["EXPORTCAST_CACHE_DIR"] = os.environ["EXPORTCAST_CACHE_DIR"]
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(venv / "bin" / "exportcast"), "serve", "--port", str(port)],
            cwd=outside,
            env=clean_env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def server_output() -> str:
        return log_path.read_text(errors="replace")[-20_000:]

    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 240
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, (
                    f"server exited with {process.returncode}:\n{server_output()}"
                )
                assert time.monotonic() < deadline, f"not ready in 240 s:\n{server_output()}"
                time.sleep(0.25)
            r = client.get("/v1/series/kr-exports/forecast")
            assert r.status_code == 200, f"{r.status_code} {r.text}\n{server_output()}"
            body = r.json()
            assert body["data_through"] == "2026-09", f"{body}\n{server_output()}"
            assert 2026 in [y["year"] for y in body["years"]], f"{body}\n{server_output()}"
    finally:
        stop(process)
    print(f"installed in {installed:.1f} s, served in {time.monotonic() - started:.1f} s")
