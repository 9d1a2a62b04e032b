"""Writes the fictitious sample exports in this folder (made by edepot/sample_exports.py, which documents them).

Re-running gives byte-identical files. Run: `.venv/bin/python samples/make_samples.py`.
"""
from __future__ import annotations

from pathlib import Path

from edepot.sample_exports import write_samples

if __name__ == "__main__":
    write_samples(Path(__file__).resolve().parent)
