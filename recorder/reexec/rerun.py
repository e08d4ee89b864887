"""``python -m recorder.reexec.rerun RESULT``: what ``flowtape rerun`` runs, in its own process.

The ``flowtape`` command lives in `replayer`, which never imports `recorder`
(SPEC §2), and the workflow it calls is the user's code: so the re-execution
runs here, in a child process, as ``flowtape demo`` records its workflow. The
request comes as JSON on stdin (`Request`); the outcome goes, as JSON, to the
file named by the one argument (`Result`): the report's dict, or one line
saying why there is none. The workflow's own output goes to this process's
stdout and stderr, whatever they are.

The entry — ``--entry``, else the recording's ``entry`` — is
``"module:function"`` (a dotted attribute path after the colon), imported
from the current directory first. It is called with the recording's
``inputs`` (or ``--inputs``): a dict as keyword arguments, None as no
argument, anything else as one argument; an async one runs under
``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

import msgspec

from storage import FlowtapeError

from ..errors import RecorderError
from .reexecute import Reexecution, reexecute

__all__ = ["Request", "Result", "load_entry", "main"]


class Request(msgspec.Struct, kw_only=True):
    """What ``flowtape rerun`` asks for (its options, the recording already resolved)."""

    recording: str
    """The recording's file."""
    store: str | None = None
    """Where the new recording goes (the command's ``--store``)."""
    entry: str | None = None
    inputs: Any = msgspec.UNSET
    """Given with ``--inputs`` (else the recording's)."""
    live: list[str] = []
    live_from: int | None = None
    overrides: dict[str, Any] = {}
    on_divergence: str = "raise"


class Result(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What came of it."""

    report: dict[str, Any] | None = None
    """`ReexecReport.to_dict`."""
    raised: str | None = None
    """What the entry raised (``"TypeError: …"``): part of the run, not an error here."""
    error: str | None = None
    """Why there is no report (a usage or read error), as one line."""


def load_entry(entry: str) -> Callable[..., Any]:
    """The callable ``"package.module:function"`` names; `RecorderError` says what is wrong."""
    module_name, sep, attr = entry.partition(":")
    if not sep or not module_name or not attr:
        raise RecorderError(f"entry {entry!r} is not of the form 'module:function'")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise RecorderError(f"cannot import the entry module {module_name!r} ({exc}); run "
                            "flowtape rerun where it can be imported, or pass --entry "
                            "module:function") from None
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise RecorderError(f"entry {entry!r}: module {module_name!r} has no "
                                f"{attr!r}") from None
    if not callable(target):
        raise RecorderError(f"entry {entry!r} is not callable")
    return target  # type: ignore[no-any-return]


def _call(rx: Reexecution, fn: Callable[..., Any], args: tuple[Any, ...],
          kwargs: dict[str, Any]) -> None:
    if inspect.iscoroutinefunction(fn):
        async def run() -> None:
            async with rx:
                await fn(*args, **kwargs)

        asyncio.run(run())
        return
    with rx:
        got = fn(*args, **kwargs)
        if inspect.isawaitable(got):
            asyncio.run(_awaited(got))


async def _awaited(value: Any) -> None:
    await value


def run(request: Request) -> Result:
    """Re-execute as asked; raises `FlowtapeError` (and ValueError, OSError) when it cannot."""
    rx = reexecute(request.recording, live=request.live,
                   on_divergence=request.on_divergence,  # type: ignore[arg-type]
                   live_from=request.live_from, overrides=request.overrides,
                   record_to=request.store)
    header = rx.tape.header
    entry = request.entry or header.entry
    if not entry:
        raise RecorderError(
            f"recording {header.recording_id} has no entry to call (record it with "
            "record_workflow(..., entry='module:function')); pass --entry module:function")
    fn = load_entry(entry)
    inputs = header.inputs if request.inputs is msgspec.UNSET else request.inputs
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = {}
    if isinstance(inputs, dict):
        kwargs = {str(k): v for k, v in inputs.items()}
    elif inputs is not None:
        args = (inputs,)
    raised = None
    try:
        _call(rx, fn, args, kwargs)
    except Exception as exc:  # the workflow's own failure (or a divergence): in the report
        raised = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return Result(report=rx.report.to_dict(), raised=raised)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m recorder.reexec.rerun RESULT_FILE < request.json",
              file=sys.stderr)
        return 2
    try:
        request = msgspec.json.decode(sys.stdin.buffer.read(), type=Request)
        result = run(request)
    except (FlowtapeError, OSError, ValueError, msgspec.DecodeError) as exc:
        result = Result(error=str(exc) or type(exc).__name__)
    with open(argv[0], "wb") as f:
        f.write(msgspec.json.encode(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
