"""Which key names hold secrets (SPEC §4): the word rule, and its needles for the byte scan.

A name is split into words at ``-``, ``_``, spaces, dots and camelCase
boundaries, case ignored: ``x-api-key`` -> ``x api key``, ``apiKey`` -> ``api
key``, ``AWS_SECRET_ACCESS_KEY`` -> ``aws secret access key``. It is secret
when its words end with the words of one of the secret names: by default a
last word ``password``, ``passwd``, ``pwd``, ``secret``, ``token``, ``auth``,
``authorization``, ``cookie``, ``credential(s)`` or ``passphrase``, or last
two words ``api key``, ``private key``, ``secret key`` or ``access key``. So
``access_token``, ``client_secret``, ``Set-Cookie`` and
``Proxy-Authorization`` are secret, while ``max_tokens``,
``promptTokenCount``, ``token_count`` and ``author`` stay readable (usage
figures are what LLM users record most). ``redact={...}`` replaces the
default names; each given name is split into words the same way.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["DEFAULT_REDACT_KEYS", "SecretNames", "split_words"]

DEFAULT_REDACT_KEYS = frozenset({
    "password", "passwd", "pwd", "secret", "token", "auth", "authorization", "cookie",
    "credential", "credentials", "passphrase",
    "api_key", "private_key", "secret_key", "access_key",
})

# Acronyms, then Capitalised or lower-case words, then digits: "APIKey" -> API, Key.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\W\d_]+")
_CACHE_MAX = 4096


def split_words(name: str) -> tuple[str, ...]:
    """``name`` as lower-case words: ``"x-api-key"`` -> ``("x", "api", "key")``."""
    return tuple(w.lower() for w in _WORD.findall(name))


class SecretNames:
    """The key-name rule for one recording, with a cache (keys repeat endlessly)."""

    __slots__ = ("_cache", "_ends", "ascii", "safe", "suffixes")

    def __init__(self, names: Collection[str]) -> None:
        self._ends = frozenset(w for w in (split_words(n) for n in names) if w)
        self._cache: dict[str, bool] = {}
        #: Keys known to be readable (the hot path's superset check reads it).
        self.safe: set[str] = set()
        #: True when every name is ASCII, so lower-casing the encoded bytes (ASCII only)
        #: finds every secret key; otherwise the scan cannot be trusted (general path).
        self.ascii = all(w.isascii() for words in self._ends for w in words)
        #: The endings a secret key's text has before its closing quote once lower-cased
        #: and stripped of what is not a letter or digit: the words joined. A hit only
        #: sends the payload down the general path, which applies the exact rule, so an
        #: ending shared with a readable key ("mytoken") costs time, never a miss.
        self.suffixes: tuple[bytes, ...] = tuple(sorted(
            {"".join(words).encode() for words in self._ends}))

    def __bool__(self) -> bool:
        return bool(self._ends)

    def is_secret(self, key: object) -> bool:
        """True when ``key`` (a string) names a secret under this rule."""
        if not isinstance(key, str):
            return False
        hit = self._cache.get(key)
        if hit is None:
            words = split_words(key)
            hit = any(words[-len(end):] == end for end in self._ends if len(end) <= len(words))
            if len(self._cache) < _CACHE_MAX:
                self._cache[key] = hit
                if not hit:
                    self.safe.add(key)
        return hit
