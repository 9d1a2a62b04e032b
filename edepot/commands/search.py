"""`edepot search QUERY`: full-text search over every message; `edepot search reindex`: rebuild the index."""
from __future__ import annotations

import argparse
from datetime import date

from edepot.commands import open_depot
from edepot.output import Verbs, emit
from kernel.config import Config


def iso_date(value: str) -> date:
    """An argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def add_filters(p: argparse.ArgumentParser, aip: bool = True) -> None:
    """The search filters, shared by `search` and `dip create --query` (which has its own --aip)."""
    p.add_argument("--from", dest="date_from", type=iso_date, help="first day (YYYY-MM-DD, local time)")
    p.add_argument("--to", dest="date_to", type=iso_date, help="last day (YYYY-MM-DD, local time)")
    p.add_argument("--participant", help="part of the sender's name (case and accents ignored)")
    p.add_argument("--custodian", action="append", default=[], metavar="NAME",
                   help="only chats from this person's phone or account (part of the name; repeatable: any of them)")
    if aip:
        p.add_argument("--aip", dest="filter_aip", metavar="ID", help="one conversation: AIP id or record kenmerk")
    p.add_argument("--zaak", help="part of the zaak's kenmerk or naam")
    p.add_argument("--classification", help="part of a classificatie code or label")
    p.add_argument("--kind", help="message kind: text, media, system, deleted, location, contact, poll, call")
    p.add_argument("--date", dest="on", type=iso_date, help="request date for the access rules (default today)")
    if aip:  # dip create has --aip and --requester of its own, and delivers as the requester may see
        p.add_argument("--as", dest="role", default="researcher", choices=("researcher", "archivist"),
                       help="whose view: a researcher sees open records only (default), an archivist all")
        p.add_argument("--requester", help="the researcher by name, so their permits count "
                                           "(default: the acting person, --user)")


def filters_of(args: argparse.Namespace, aip: str | None = None):  # noqa: ANN201 (imported lazily)
    from preservation.search_index import Filters

    return Filters(date_from=args.date_from, date_to=args.date_to, participant=args.participant,
                   aip=aip or getattr(args, "filter_aip", None), zaak=args.zaak, classification=args.classification,
                   kind=args.kind, custodians=tuple(args.custodian))


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("search", parents=[common], help="full-text search over all messages",
                         description="Words (all must occur, any inflection), \"a phrase\", word* (prefix), "
                                     "a OR b, -word (excluded). 'edepot search reindex [--aip ID]' rebuilds "
                                     "the index from the stored AIPs.")
    p.add_argument("query", nargs="*", help="the words to find (or: reindex); none with a filter: every message "
                                            "it lets through, e.g. --kind media")
    add_filters(p)
    p.add_argument("--limit", type=int, default=20, help="hits to show (default 20)")
    p.add_argument("--offset", type=int, default=0, help="hits to skip (for the next page)")
    p.add_argument("--sort", default="chat", choices=("chat", "relevance", "newest", "oldest"),
                   help="chat: conversation by conversation in message order (default, fastest)")
    p.add_argument("--queue", action="store_true", help="with reindex: put the rebuild in the job queue")
    p.set_defaults(handler=cmd_search)


def cmd_search(args: argparse.Namespace, config: Config) -> int:
    if args.query == ["reindex"]:
        return cmd_reindex(args, config)
    from access.search import SearchRequest

    request = SearchRequest(" ".join(args.query), filters_of(args), role=args.role, on=args.on,
                            requester=args.requester, limit=args.limit, offset=args.offset, sort=args.sort)
    with open_depot(args, config) as depot:
        result = depot.search(request)
    lines = [f"{h.timestamp:%Y-%m-%d %H:%M}  {h.record_id} #{h.seq}  {h.sender or '(systeem)'}: {h.snippet}"
             for h in result.hits]
    if result.hits:
        shown = f"{result.offset + 1}–{result.offset + len(result.hits)}"
        counted = f"{result.total}" if result.total_exact else f"more than {result.total}"
        lines.insert(0, f"{counted} hit{'s' if result.total != 1 else ''} (showing {shown})")
    if result.more:
        lines.append(f"… more hits: --offset {result.offset + result.limit}")
    emit(args, result.to_dict(), "\n".join(lines) or ("no hits" if not result.total
                                                       else f"no hits on this page ({result.total} in total)"))
    return 0


def cmd_reindex(args: argparse.Namespace, config: Config) -> int:
    import os
    import sys

    if args.queue:
        from edepot.commands.jobs import emit_queued
        from edepot.service.job_kinds import REINDEX

        return emit_queued(args, config, REINDEX, {"aip_id": args.filter_aip}, "rebuild of the search index")

    with open_depot(args, config) as depot:
        if args.json or not sys.stderr.isatty() or os.environ.get("CI"):
            done = depot.reindex(args.filter_aip)
        else:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            with Progress("indexing AIPs", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task("reindex", total=None)
                done = depot.reindex(args.filter_aip,
                                     on_progress=lambda n, total: progress.update(task, completed=n, total=total))
    indexed = [d for d in done if not d.not_indexed]
    lines = [f"indexed {sum(d.messages for d in indexed)} messages of {len(indexed)} AIPs"]
    lines += [f"  {d.aip_id} ({d.record_id}): missing (declared lost) {', '.join(d.missing)}"
              + (f"; not indexed: {d.not_indexed}" if d.not_indexed else "") for d in done if d.missing]
    emit(args, {"reindexed": [{"aip_id": d.aip_id, "record_id": d.record_id, "messages": d.messages,
                               "missing": list(d.missing), "not_indexed": d.not_indexed or None} for d in done]},
         "\n".join(lines))
    return 0
