"""No frame holds more than 16 MiB decompressed (SPEC §3): a bigger buffer is split.

Readers refuse bigger frames as corrupt (a compression bomb costs them
nothing), so the writer must never make one — whatever ``flush_every``,
``flush_interval`` or ``max_payload_bytes`` say.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import zstandard

from recorder import record_workflow
from storage.format.codec import MAX_FRAME_CONTENT, ZstdCodec

pytestmark = pytest.mark.slow  # writes ~40 MB


def frame_sizes(path: str | os.PathLike[str]) -> list[int]:
    """The decompressed size of every zstd frame in the file (the trailer skipped)."""
    data = Path(path).read_bytes()
    codec = ZstdCodec()
    sizes, pos = [], 0
    while pos < len(data):
        n = codec.frame_length(data, pos)
        if not codec.is_trailer(data, pos):
            sizes.append(len(zstandard.ZstdDecompressor().decompress(data[pos:pos + n])))
        pos += n
    return sizes


def test_a_buffer_over_16_mib_is_split_into_frames(store: Path, read: Any) -> None:
    """Thirty 1 MiB events buffered at once become several frames, each ≤ 16 MiB."""
    blob = os.urandom(512 * 1024).hex()  # 1 MiB of text that does not compress away
    with record_workflow("big", store=str(store), flush_every=10**6, flush_interval=1000.0,
                         max_payload_bytes=2 << 20) as rec:
        for i in range(30):
            rec.event("chunk", {"i": i, "blob": blob})
    sizes = frame_sizes(rec.path)
    assert max(sizes) <= MAX_FRAME_CONTENT
    assert sum(sizes) > 30 << 20  # nothing was dropped to get there
    r = read(rec)
    assert [e.data["value"]["i"] for e in r.of_kind("custom")] == list(range(30))
    assert r.footer.dropped == []


def test_a_payload_limit_over_the_frame_size_still_makes_readable_frames(store: Path,
                                                                        read: Any) -> None:
    """max_payload_bytes above the frame limit: a 20 MiB payload is truncated, not framed."""
    with record_workflow("huge", store=str(store), max_payload_bytes=64 << 20) as rec:
        rec.event("blob", "x" * (20 << 20))
        rec.event("after", 1)
    assert max(frame_sizes(rec.path)) <= MAX_FRAME_CONTENT
    r = read(rec)
    value = r.of_kind("custom")[0].data["value"]
    assert value["$truncated"] > 20 << 20
    assert r.of_kind("custom")[1].data == {"name": "after", "value": 1}


def test_oversized_header_inputs_and_meta_are_truncated(store: Path, read: Any) -> None:
    """inputs= and meta= over the payload limit are truncated in the header, like payloads."""
    big = {"blob": "y" * 5000}
    with record_workflow("etl", store=str(store), max_payload_bytes=1024, inputs=big,
                         meta=big) as rec:
        pass
    r = read(rec)
    assert set(r.header.inputs) == {"$truncated", "$preview"}
    assert set(r.header.meta) == {"$truncated", "$preview"}
    assert sum("header" in note for note in r.footer.dropped) == 2
