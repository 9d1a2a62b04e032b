"""Staging names stay within the file system's limit for one name, whatever the final name is."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kernel.atomic import NAME_MAX_BYTES, is_temporary_name, temporary_name, write_bytes_atomic


@given(st.text(min_size=1, max_size=300).filter(lambda s: "/" not in s and "\x00" not in s))
def test_temporary_names_fit_and_are_recognised(name: str) -> None:
    staged = temporary_name(name, "partial")
    assert len(staged.encode("utf-8", "surrogateescape")) <= NAME_MAX_BYTES
    assert is_temporary_name(staged)


def test_a_file_with_a_250_character_name_is_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 120 + "x" * 10)  # 250 bytes in UTF-8
    write_bytes_atomic(target, b"kept")
    assert target.read_bytes() == b"kept"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
