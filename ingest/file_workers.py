"""Identification, format validation and normalisation of a SIP of many files, on every core (and the check of
its PREMIS document against the schema, while the ingest writes the bag's manifests).

FIDO's matching, the validators and the policy's checks (pdf-keep's PDF/A check) are Python that holds the GIL, so for a SIP of MANY_FILES files or more they
run in worker processes, forked before the virus check (so before the background copies start any thread) with
FIDO's signatures loaded already. The workers only read files and answer; the ingest records every answer in its
own order, as it would have identified and validated the files itself. A worker ends with the ingest, also when
the ingest is killed (it holds the ingest's locks open too). A smaller SIP is done in the ingest's own process,
where a worker would cost more than it saves.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from kernel.errors import RenderingFailed, ToolMissing
from preservation.identify import Identification, shared_identifier
from preservation.normalise import NormaliseOutcome, Status, normaliser
from preservation.validate_formats import FormatCheck, validate_format
from preservation.xsd import SchemaName, validate_xml

MANY_FILES = 1000
BATCH = 64  # files handed to a worker at once
PR_SET_PDEATHSIG = 1  # prctl(2)

Validation = tuple[Path, str | None, str | None]  # a file, its PUID and its MIME type
Action = tuple[str, Path, Path]  # a format policy action, its source file and its target's base


class FileWorkers:
    """Where the files of one ingest are identified and validated: worker processes, or this process."""

    def __init__(self, processes: Executor | None) -> None:
        self._processes = processes

    def identify(self, paths: Sequence[Path]) -> Iterator[Identification]:
        """FIDO's identification of each path, in order."""
        if self._processes is None:
            return map(shared_identifier().identify, paths)
        return self._processes.map(_identify, paths, chunksize=BATCH)

    def validate(self, files: Sequence[Validation]) -> Iterable[FormatCheck | None]:
        """`validate_format` of each file, in order."""
        if self._processes is not None:
            return self._processes.map(_validate, files, chunksize=BATCH)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # decoders and ffprobe free the GIL
            return list(pool.map(_validate, files))

    def check_xml(self, document: bytes, schema: SchemaName, schema_dir: Path) -> Future[list[str]]:
        """`validate_xml` of `document`: in a worker, while this process goes on, or done here already."""
        if self._processes is not None:
            return self._processes.submit(validate_xml, document, schema, schema_dir)
        done: Future[list[str]] = Future()
        try:
            done.set_result(validate_xml(document, schema, schema_dir))
        except Exception as error:  # noqa: BLE001 - raised where the answer is asked for, as from a worker
            done.set_exception(error)
        return done

    def normalise(self, actions: Sequence[Action]) -> Iterator[NormaliseOutcome]:
        """`run_action` of each action, in order."""
        if self._processes is not None:
            return self._processes.map(_normalise, actions, chunksize=BATCH)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # the tools run as their own processes
            return iter(list(pool.map(_normalise, actions)))


def run_action(action: str, source: Path, target: Path) -> NormaliseOutcome:
    """The format policy's `action` on `source`, derived files beside `target`; a tool that failed or is missing
    is an outcome saying so, not an error."""
    try:
        return normaliser(action)(source, target)
    except RenderingFailed as error:
        return NormaliseOutcome(action, Status.FAILED, error.message)
    except ToolMissing as error:
        return NormaliseOutcome(action, Status.SKIPPED, error.one_line())


@contextmanager
def file_workers(files: int) -> Iterator[FileWorkers]:
    """Workers for `files` files: processes on every core from MANY_FILES files on, else this process."""
    cores = os.cpu_count() or 1
    if files < MANY_FILES or cores < 2:
        yield FileWorkers(None)
        return
    shared_identifier()  # loaded once, here, for every worker
    with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("fork"),
                             initializer=_end_with_parent, initargs=(os.getpid(),)) as processes:
        processes.submit(int)  # the first task forks every worker, now, before any other thread starts
        yield FileWorkers(processes)


def _end_with_parent(parent: int) -> None:
    """Have the kernel end this worker when the ingest (process `parent`) ends (Linux), so a killed ingest leaves
    no worker holding its locks; an ingest killed before this worker got so far has ended it already."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the worker ends when it finds its queue closed
    if os.getppid() != parent:
        os._exit(0)


def _identify(path: Path) -> Identification:
    return shared_identifier().identify(path)


def _validate(file: Validation) -> FormatCheck | None:
    return validate_format(*file)


def _normalise(action: Action) -> NormaliseOutcome:
    return run_action(*action)
