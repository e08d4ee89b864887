"""What a payload becomes before it is written: encoded once, masked, made valid.

SPEC §4 and issue 12's design. Each payload (inputs, outputs, error, data,
state, meta) is encoded once by msgspec with the placeholder-aware hook of
`_values`; the encoded text is then searched for what could need masking:

* a secret key: a string in it ending, before its closing quote, in a
  secret name (`_keys` — this also finds ``("Authorization", "…")`` pairs);
* a well-known token shape (``redact_patterns``);
* a value seen earlier under a secret key (kept for the whole recording).

Only on a hit (or for what the one-shot encode cannot take: lone
surrogates, cycles, NamedTuples, non-ASCII text, a ``redact=`` callable) is
the payload converted and walked — so objects are masked as they are encoded,
whatever the container. The result is the encoded bytes as `msgspec.Raw`,
which the event line embeds as they are and which doubles as the payload's
copy at call time. Numbers, booleans and None pass through as they are, and
so does the hot path's flat dict of readable keys and short values, which
nothing could need masked.

Masking never touches the caller's objects, and never raises: a failing
``redact=`` callable withholds the payload (``{"$redaction_failed": ...}``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Collection
from itertools import repeat
from typing import Any

import msgspec

from ._keys import DEFAULT_REDACT_KEYS, SecretNames
from ._values import has_named_tuple, make_enc_hook, placeholder, to_builtins

__all__ = [
    "DEFAULT_REDACT_KEYS",
    "DEFAULT_REDACT_PATTERNS",
    "REDACTED",
    "Redactor",
]

REDACTED = "[REDACTED]"
log = logging.getLogger("flowtape")

#: Token shapes masked inside any string by default (``redact_patterns=``): OpenAI-style
#: ``sk-…`` keys, GitHub tokens, AWS access key ids, Slack tokens, JWTs, bearer tokens.
DEFAULT_REDACT_PATTERNS: tuple[str, ...] = (
    r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}",
    r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{20,}",
    r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}",
    r"(?<![A-Za-z0-9])AKIA[0-9A-Z]{16}",
    r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}",
    r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r"(?<![A-Za-z0-9])[Bb]earer [A-Za-z0-9._~+/=-]{8,}",
)
#: A literal each default pattern contains, and the shortest match: a cheap first look.
_DEFAULT_ANCHORS = ("sk-", "hp_", "ho_", "hu_", "hs_", "hr_", "_pat_", "AKIA", "xox", "eyJ",
                    "earer ")
_DEFAULT_SHORTEST = 15

#: Values shorter than this seen under a secret key are not hunted for elsewhere
#: (masking every "abc" or "true" in a recording would hide more than it protects).
MIN_SEEN_SECRET = 6
MAX_SEEN_SECRETS = 1000

RedactCallable = Callable[[str, Any], Any]
# Deleted before the key scan: ASCII characters that are not word characters (the
# word split ignores them), except the quote that ends a string and the backslash
# that starts an escape (escapes are removed first).
_SCAN_DELETE = bytes(c for c in range(128)
                     if not chr(c).isalnum() and chr(c) not in '"\\')
_ESCAPE = re.compile(rb"\\(?:u[0-9a-fA-F]{4}|.)")
# `name=value` / `'name': value` inside a repr, for objects that print their secrets.
_REPR_FIELD = re.compile(r"""([A-Za-z_][\w-]*)(['"]?\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s,)}\]]+)""")
_plain = msgspec.json.Encoder()
_decode = msgspec.json.Decoder().decode


def _strings(raw: bytes) -> str:
    """The text of the strings (keys and values) in encoded JSON, NUL-separated.

    Token shapes and secret values live in strings; leaving out the numbers and
    punctuation keeps the scan of, say, an embedding's 1536 floats short. With an
    escaped quote inside a string the quotes no longer pair up: then all of it.
    """
    if raw.find(b'\\"') >= 0:
        return raw.decode()
    return b"\0".join(raw.split(b'"')[1::2]).decode()


def compile_patterns(patterns: Collection[str] | None) -> tuple[str, ...]:
    """The ``redact_patterns=`` option checked: None means the defaults, ``()`` none.

    Raises ValueError naming a pattern that is not a valid regular expression.
    """
    if patterns is None:
        return DEFAULT_REDACT_PATTERNS
    if isinstance(patterns, str):
        patterns = (patterns,)
    out = tuple(str(p) for p in patterns)
    for p in out:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"redact_patterns: {p!r} is not a valid regular expression "
                             f"({exc})") from None
    return out


class Redactor:
    """Masks one recording's payloads: by key name, by value, by pattern, by callable.

    ``keys`` follow the word rule of `_keys`; the callable, if given, is called
    once per payload as ``fn(path, value)`` with the payload's §6 path
    (``inputs``, ``outputs``, ``error``, ``state``, ``data``, ``meta``) and
    returns what to record; masking by key, value and pattern then applies to
    what it returned.
    """

    def __init__(self, keys: Collection[str] = DEFAULT_REDACT_KEYS,
                 fn: RedactCallable | None = None,
                 patterns: Collection[str] | None = None) -> None:
        self._names = SecretNames(keys)
        self._fn = fn
        self._patterns = compile_patterns(patterns)
        self._pattern_rx = (re.compile("|".join(f"(?:{p})" for p in self._patterns))
                            if self._patterns else None)
        self._anchors = _DEFAULT_ANCHORS if self._patterns == DEFAULT_REDACT_PATTERNS \
            else None
        #: Key names known to be readable: grows as keys are met (the hot path reads it).
        self.safe_keys: set[str] = self._names.safe
        #: Strings shorter than this can hold no token shape nor seen secret.
        self.min_text = _DEFAULT_SHORTEST if self._anchors is not None else (
            0 if self._patterns else 1 << 62)
        self._suffixes = self._names.suffixes
        self._lock = threading.Lock()
        self._seen: dict[str, None] = {}
        self._seen_rx: re.Pattern[str] | None = None
        self._seen_scan_rx: re.Pattern[str] | None = None
        self.enc_hook = make_enc_hook(self._mask_repr)
        self._encode = msgspec.json.Encoder(enc_hook=self.enc_hook).encode
        self._trust_scan = self._names.ascii

    @property
    def can_raise(self) -> bool:
        """True when a user callable runs, which may raise (masking itself never does)."""
        return self._fn is not None

    @classmethod
    def from_option(cls, redact: object, patterns: Collection[str] | None = None) -> Redactor:
        """Build from ``record_workflow(redact=..., redact_patterns=...)``."""
        if redact is None:
            return cls(patterns=patterns)
        if callable(redact):
            return cls(DEFAULT_REDACT_KEYS, redact, patterns)
        if isinstance(redact, str):
            return cls([redact], patterns=patterns)
        if isinstance(redact, Collection):
            return cls([str(k) for k in redact], patterns=patterns)
        raise TypeError(
            f"redact= must be a set of key names or a callable (path, value) -> value, "
            f"not {type(redact).__name__}"
        )

    def payload_guarded(self, value: Any, path: str) -> Any:
        """`payload`, with a failing ``redact=`` callable withholding the payload
        (``{"$redaction_failed": <error type>}``, logged) instead of raising."""
        try:
            return self.payload(value, path)
        except Exception as exc:
            log.warning("flowtape: redaction of %s failed (%s); payload withheld", path, exc)
            return {"$redaction_failed": type(exc).__name__}

    # --- the hot path -------------------------------------------------------------------
    def payload(self, value: Any, path: str) -> Any:
        """``value`` as it is recorded: `msgspec.Raw` of the masked JSON; a number, bool or
        None as it is; a flat dict with nothing to mask as it is (see below).

        Raises only what a ``redact=`` callable raises.
        """
        if self._fn is not None:
            value = self._fn(path, value)
        t = type(value)
        if t is int or t is bool or t is float or value is None:
            return value
        if t is dict and self._names.safe.issuperset(value):
            # The hot path's payload: every key known to be readable, flat values. With no
            # string long enough to hold a token shape or a seen secret, nothing can need
            # masking, and the dict goes out as it is: its values cannot change before the
            # event is encoded (they are immutable, and the dict is the caller's or the
            # @node binder's own).
            limit = self.min_text
            long_text = False
            for v in value.values():
                tv = type(v)
                if tv is str:
                    if len(v) >= limit:
                        long_text = True
                elif tv is not int and tv is not float and tv is not bool and v is not None:
                    break
            else:
                if not long_text:
                    return value
                try:
                    raw = self._encode(value)
                except Exception:
                    return self._general(value, None)
                if not self._text_hit(_strings(raw)):
                    return msgspec.Raw(raw)
                return self._general(value, raw)
        try:
            raw = self._encode(value)
        except Exception:  # lone surrogates, cycles, keys msgspec refuses...
            return self._general(value, None)
        if self._needs_general(raw):
            # A NamedTuple's field names are not in its encoding: convert the value itself.
            return self._general(value, None if b"[" in raw and has_named_tuple(value)
                                 else raw)
        if b"[" in raw and has_named_tuple(value):
            return self._general(value, None)
        if t is dict and len(self._names.safe) < 4096:
            for k in value:  # learnt once, so the next call takes the branch above
                self._names.is_secret(k)
        return msgspec.Raw(raw)

    def _needs_general(self, raw: bytes) -> bool:
        """True when the encoded payload may hold something to mask."""
        if not self._trust_scan or not raw.isascii():
            # Lower-casing the encoded text follows the word rule for ASCII only (a
            # non-ASCII key, or secret name, takes the general path).
            return True
        if self._names and self._key_hit(raw):
            return True
        return self._text_hit(_strings(raw))

    def _key_hit(self, raw: bytes) -> bool:
        """True when a string in the encoded payload ends in a secret name's words."""
        pieces = raw.split(b'"')
        if raw.find(b'\\"') < 0:
            pieces = pieces[1::2]  # the strings alone (quotes pair up): keys and values
        text = b'"'.join(pieces)
        if text.find(b"\\") >= 0:
            text = _ESCAPE.sub(b"", text)  # escapes stand for characters the word split drops
        pieces = text.lower().translate(None, _SCAN_DELETE).split(b'"')
        return any(map(bytes.endswith, pieces, repeat(self._suffixes)))

    def _text_hit(self, text: str) -> bool:
        """True when a token shape or a value seen under a secret key occurs in ``text``."""
        seen = self._seen_scan_rx
        if seen is not None and seen.search(text):
            return True
        rx = self._pattern_rx
        if rx is None:
            return False
        anchors = self._anchors
        if anchors is None:
            return rx.search(text) is not None
        if len(text) < _DEFAULT_SHORTEST:
            return False
        return any(a in text for a in anchors) and rx.search(text) is not None

    # --- the general path ---------------------------------------------------------------
    def _general(self, value: Any, raw: bytes | None) -> Any:
        """Mask ``value`` — its encoding ``raw`` decoded, or (None) the value converted by
        `to_builtins` — and encode the result; never raises."""
        try:
            tree = _decode(raw) if raw is not None else to_builtins(value, self.enc_hook)
            learned: list[str] = []
            if self._names:
                tree = self._mask_keys(tree, learned, 0)
            if learned:
                self._learn(learned)
            if self._seen_rx is not None or self._pattern_rx is not None:
                tree = self._mask_text(tree, 0)
            return msgspec.Raw(_plain.encode(tree))
        except Exception:  # RecursionError on absurd nesting, a hostile __eq__...
            return msgspec.Raw(_plain.encode(placeholder(value, self._mask_repr)))

    def _mask_keys(self, v: Any, learned: list[str], depth: int) -> Any:
        """``v`` with values under secret keys (and in secret ``(name, value)`` pairs) masked."""
        if depth > 400:
            return v
        t = type(v)
        if t is dict:
            secret = self._names.is_secret
            out: dict[str, Any] = {}
            for k, x in v.items():
                if secret(k):
                    if type(x) is str:
                        learned.append(x)
                    out[k] = REDACTED
                else:
                    out[k] = self._mask_keys(x, learned, depth + 1) \
                        if type(x) in (dict, list) else x
            return out
        if t is list:
            if len(v) == 2 and type(v[0]) is str and self._names.is_secret(v[0]):
                if type(v[1]) is str:
                    learned.append(v[1])
                return [v[0], REDACTED]
            return [self._mask_keys(x, learned, depth + 1) if type(x) in (dict, list) else x
                    for x in v]
        return v

    def _mask_text(self, v: Any, depth: int) -> Any:
        """``v`` with token shapes and seen secret values masked inside every string."""
        t = type(v)
        if t is str:
            return self.mask_string(v)
        if depth > 400:
            return v
        if t is dict:
            return {self.mask_string(k): self._mask_text(x, depth + 1) for k, x in v.items()}
        if t is list:
            return [self._mask_text(x, depth + 1) for x in v]
        return v

    def mask_string(self, text: str) -> str:
        """``text`` with token shapes and values seen under secret keys replaced."""
        if len(text) < self.min_text:
            return text
        seen = self._seen_rx
        if seen is not None:
            text = seen.sub(REDACTED, text)
        rx = self._pattern_rx
        if rx is not None:
            anchors = self._anchors
            if anchors is None or (len(text) >= _DEFAULT_SHORTEST
                                   and any(a in text for a in anchors)):
                text = rx.sub(REDACTED, text)
        return text

    def _learn(self, values: list[str]) -> None:
        """Remember secret values, so later payloads mask them wherever they appear."""
        fresh = [v for v in values if len(v) >= MIN_SEEN_SECRET and v != REDACTED
                 and v not in self._seen]
        if not fresh:
            return
        with self._lock:
            for v in fresh:
                if len(self._seen) < MAX_SEEN_SECRETS:
                    self._seen[v] = None
            ordered = sorted(self._seen, key=len, reverse=True)
            self.min_text = min(self.min_text, MIN_SEEN_SECRET)  # (JSON escapes only add)
            self._seen_rx = re.compile("|".join(map(re.escape, ordered)))
            # The scan reads encoded JSON, where a value's quotes and controls are escaped.
            forms = {_plain.encode(v)[1:-1].decode() for v in ordered} | set(ordered)
            self._seen_scan_rx = re.compile("|".join(
                map(re.escape, sorted(forms, key=len, reverse=True))))

    def _mask_repr(self, obj: object, text: str) -> str:
        """A placeholder's repr with what it shows of secret attributes masked."""
        try:
            attrs = dict(vars(obj))
        except TypeError:
            attrs = {}
        learned: list[str] = []
        for name, val in attrs.items():
            if self._names.is_secret(name) and val is not None:
                for form in {repr(val), str(val)}:
                    if len(form) >= 3:
                        text = text.replace(form, REDACTED)
                if isinstance(val, str):
                    learned.append(val)

        def field(m: re.Match[str]) -> str:
            if self._names.is_secret(m.group(1)):
                return f"{m.group(1)}{m.group(2)}{REDACTED}"
            return m.group(0)

        text = _REPR_FIELD.sub(field, text)
        if learned:
            self._learn(learned)
        return text
