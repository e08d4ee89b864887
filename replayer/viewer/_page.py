"""The viewer's page: its hand-written ES modules joined into one inline script, and the shell.

The browser cannot import ES modules from a ``file://`` page, and the page
must not load anything, so `bundle` joins the modules under ``static/js/``
into one module script: each module becomes a function scope that returns
its exports, and each ``import { a, b } from "./x.js";`` line becomes
``const { a, b } = <that module>;``. The modules keep to that one import
form (no default exports, no renaming) and `bundle` refuses anything else.

`shell` wraps the script, the style sheet and the page's data in one HTML
document whose Content-Security-Policy allows exactly that script and that
style (by their sha256) and nothing else: no request of any kind, no other
script, no plugin, no form, no base URL.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path

__all__ = ["STATIC", "Assets", "assets", "bundle", "policy", "shell"]

STATIC = Path(__file__).resolve().parent / "static"

_IMPORT = re.compile(r'^import \{([^}]*)\} from "(\.{1,2}/[^"]+)";[ \t]*$', re.M)
_ANY_IMPORT = re.compile(r"^\s*import\b|\bimport\s*\(", re.M)
_EXPORT = re.compile(r"^export (?:async )?(?:function\*?|const|let|class) +([A-Za-z_$][\w$]*)",
                     re.M)
_ENDS_SCRIPT = re.compile(r"</?script|<!--", re.I)
_OTHER_EXPORT = re.compile(r"^export (?!(?:async )?(?:function\*?|const|let|class) )", re.M)


def bundle(entry: Path) -> str:
    """One module script holding ``entry`` and every module it imports, dependencies first.

    Raises ValueError naming the file for an import cycle or an import or
    export form the bundler does not take.
    """
    order: list[Path] = []
    names: dict[Path, str] = {}
    visiting: set[Path] = set()
    parts: list[str] = []

    def visit(path: Path) -> str:
        path = path.resolve()
        if path in names:
            return names[path]
        if path in visiting:
            raise ValueError(f"{path}: import cycle; the viewer's modules must form a tree")
        visiting.add(path)
        source = path.read_text(encoding="utf-8")
        if _ENDS_SCRIPT.search(source):
            raise ValueError(f"{path}: `</script`, `<script` or `<!--` would end or confuse the "
                             "inline script; spell it another way")
        deps: dict[str, str] = {}
        for m in _IMPORT.finditer(source):
            deps[m.group(0)] = visit(path.parent / m.group(2))
        body = _IMPORT.sub(lambda m: f"const {{{m.group(1)}}} = {deps[m.group(0)]};", source)
        if _ANY_IMPORT.search(body) or _OTHER_EXPORT.search(body):
            raise ValueError(f"{path}: write imports as `import {{ a, b }} from \"./x.js\";` "
                             "and exports as `export function|const|let|class NAME`")
        exports = _EXPORT.findall(body)
        body = _EXPORT.sub(lambda m: m.group(0).removeprefix("export "), body)
        name = f"$m{len(order)}"
        order.append(path)
        names[path] = name
        visiting.discard(path)
        parts.append(f"const {name} = (() => {{ // {path.relative_to(path.parents[1])}\n"
                     f"{body.rstrip()}\nreturn {{ {', '.join(exports)} }};\n}})();\n")
        return name

    visit(entry)
    return "".join(parts)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class Assets:
    """The page's script and style, and the CSP hashes that allow exactly them."""

    def __init__(self, script: str, style: str) -> None:
        self.script = script
        self.style = style
        self.script_hash = _sha256(script)
        self.style_hash = _sha256(style)


@functools.cache
def assets() -> Assets:
    """The viewer's bundled script and style sheet (read once per process)."""
    return Assets(bundle(STATIC / "js" / "main.js"),
                  (STATIC / "viewer.css").read_text(encoding="utf-8"))


def policy(a: Assets, *, connect: str = "'none'") -> str:
    """The Content-Security-Policy: this script and style only; ``connect`` for fetches."""
    return (f"default-src 'none'; script-src {a.script_hash}; style-src {a.style_hash}; "
            f"connect-src {connect}; img-src 'none'; base-uri 'none'; form-action 'none'")


def shell(page: str, *, a: Assets | None = None, connect: str = "'none'",
          attrs: str = "") -> tuple[str, str]:
    """The head and the tail of a viewer page; its data blocks go between them.

    ``page`` names what main.js builds (``report``, ``recording``, ``list``,
    ``compare``); ``attrs`` are more body attributes, already escaped. The
    title is generic on purpose: the page sets the recording's own as text.
    """
    a = a or assets()
    csp = policy(a, connect=connect)
    head = ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n"
            "<meta name=\"referrer\" content=\"no-referrer\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>flowtape report</title>\n"
            f"<style>{a.style}</style>\n</head>\n<body data-page=\"{page}\"{attrs}>\n"
            "<noscript>This flowtape page needs JavaScript to show the recording.</noscript>\n")
    tail = f"<script type=\"module\">{a.script}</script>\n</body>\n</html>\n"
    return head, tail
