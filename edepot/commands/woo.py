"""`edepot woo open|scope|unscope|decide|besluit|sent|close|list|show|extend|suspend|resume`: Woo requests, their
scope, a decision per document, and the besluit with its inventory and productierapport."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edepot.commands import open_depot
from edepot.commands.jobs import emit_job
from edepot.commands.search import iso_date
from edepot.output import Verbs, emit
from kernel.config import Config
from kernel.errors import InputError

if TYPE_CHECKING:
    from edepot.service.woo import Document
    from preservation.woo_register import WooRequest


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    area = verbs.add_parser("woo", help="Woo requests: scope, decisions per document, besluit")
    actions = area.add_subparsers(metavar="ACTION", parser_class=type(common))
    p = actions.add_parser("open", parents=[common], help="register a Woo request (deadline: four weeks)")
    p.add_argument("request", metavar="ID", help="the request's id, e.g. 2026-041")
    p.add_argument("--requester", required=True)
    p.add_argument("--subject", required=True, help="what is asked for")
    p.add_argument("--received", type=iso_date, help="the day it was received (default today)")
    p.add_argument("--organisation", help="the organisation it was made to (default: the one you serve)")
    p.set_defaults(handler=cmd_open)

    p = actions.add_parser("scope", parents=[common],
                           help="add what a search finds, or picked messages or chats, to the scope")
    p.add_argument("request", metavar="ID")
    p.add_argument("query", nargs="*", help="words to search for (the search language of `edepot search`)")
    p.add_argument("--record", help="one chat (kenmerk or AIP id)")
    p.add_argument("--messages", help="picked messages of --record: 3,5-9")
    p.add_argument("--whole", action="store_true", help="--record as one document (the whole chat)")
    p.add_argument("--from", dest="date_from", type=iso_date, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", type=iso_date, help="last day (YYYY-MM-DD)")
    p.add_argument("--participant", help="part of the sender's name")
    p.add_argument("--context", type=int, default=0, help="messages before and after each hit shown as context")
    p.set_defaults(handler=cmd_scope)

    p = actions.add_parser("unscope", parents=[common], help="take a chat's documents out of the scope")
    p.add_argument("request", metavar="ID")
    p.add_argument("--record", required=True)
    p.add_argument("--messages", help="only these messages: 3,5-9")
    p.set_defaults(handler=cmd_unscope)

    p = actions.add_parser("decide", parents=[common],
                           help="decide documents: named, by chat and dates, or from a sheet (CSV or XLSX)")
    p.add_argument("request", metavar="ID")
    p.add_argument("--sheet", type=Path, help="a sheet of decisions: ID, Beoordeling, Beoordelingsgrond, "
                                              "Toelichting, Opgeschort, Publieke link")
    p.add_argument("--document", action="append", default=[], help="a document id (repeatable)")
    p.add_argument("--record", action="append", default=[], help="every document of this chat (repeatable)")
    p.add_argument("--from", dest="date_from", type=iso_date)
    p.add_argument("--to", dest="date_to", type=iso_date)
    p.add_argument("--undecided", action="store_true", help="only documents nobody decided yet")
    p.add_argument("--beoordeling", help="Openbaarmaking, Gedeeltelijk openbaar, Reeds openbaar, Geen openbaarmaking")
    p.add_argument("--ground", action="append", default=[], help="a Woo ground, e.g. 5.1.2e (repeatable)")
    p.add_argument("--toelichting", default="", help="why; required to open what the metadata closes")
    p.add_argument("--opgeschort", action="store_true", help="disclosure suspended (third parties are heard)")
    p.add_argument("--link", default="", help="where a document already public is")
    p.add_argument("--redact", action="append", default=[], metavar="START-END[:GROUND]",
                   help="black out a span of the message's text (characters, end exclusive)")
    p.add_argument("--redact-name", action="append", default=[], metavar="NAME",
                   help="black out this person's name wherever it occurs in the besluit (5.1.2e)")
    p.set_defaults(handler=cmd_decide)

    p = actions.add_parser("besluit", parents=[common], help="make the besluit: DIP, inventarislijst, "
                                                             "documents by id, productierapport.xlsx")
    p.add_argument("request", metavar="ID")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", type=Path, help="the folder to make (absent or empty)")
    out.add_argument("--queue", action="store_true",
                     help="a worker makes it, as you, under <data-dir>/dips/<job>/; prints the job")
    p.set_defaults(handler=cmd_besluit)

    p = actions.add_parser("sent", parents=[common], help="the besluit was sent: the objection period starts")
    p.add_argument("request", metavar="ID")
    p.add_argument("--on", type=iso_date, help="the day it was sent (default today)")
    p.set_defaults(handler=cmd_sent)

    p = actions.add_parser("close", parents=[common], help="close after the objection period; lifts its holds")
    p.add_argument("request", metavar="ID")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_close)

    p = actions.add_parser("list", parents=[common], help="the Woo requests you handle, with their deadlines")
    p.set_defaults(handler=cmd_list)

    p = actions.add_parser("show", parents=[common], help="a request: state, deadline, scope and decisions")
    p.add_argument("request", metavar="ID")
    p.add_argument("--documents", action="store_true", help="every document with its text and decision")
    p.add_argument("--undecided", action="store_true", help="only the documents still undecided")
    p.set_defaults(handler=cmd_show)

    for verb, text in (("extend", "take the one extension of two weeks"), ("suspend", "suspend the term"),
                       ("resume", "resume the term: the deadline moves on by the days suspended")):
        p = actions.add_parser(verb, parents=[common], help=text)
        p.add_argument("request", metavar="ID")
        if verb == "extend":
            p.add_argument("--reason", required=True)
        p.set_defaults(handler=cmd_term, verb=verb)


def seqs_of(text: str | None) -> list[int]:
    """Message numbers from "3,5-9"; InputError for anything else."""
    seqs: list[int] = []
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise InputError(f"{text!r}: write message numbers like 3,5-9") from None
        if low < 1 or high < low:
            raise InputError(f"{part!r}: message numbers start at 1, a range runs upwards")
        seqs.extend(range(low, high + 1))
    return seqs


def request_dict(request: WooRequest) -> dict[str, Any]:
    return {"request_id": request.request_id, "organisation": request.organisation, "requester": request.requester,
            "subject": request.subject, "received": request.received.isoformat(),
            "deadline": request.deadline.isoformat(), "extended": request.extended, "state": request.state,
            "besluit_on": request.besluit_on.isoformat() if request.besluit_on else None,
            "closed_on": request.closed_on.isoformat() if request.closed_on else None,
            "besluit_path": request.besluit_path}


def request_line(request: WooRequest) -> str:
    extended = ", verlengd" if request.extended else ""
    return (f"{request.request_id}  {request.state}  ontvangen {request.received.isoformat()}  "
            f"beslissen uiterlijk {request.deadline.isoformat()}{extended}  {request.requester}: {request.subject}")


def cmd_open(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        request = depot.open_request(args.request, requester=args.requester, subject=args.subject,
                                     received=args.received or depot.now().date(), organisation=args.organisation)
    emit(args, request_dict(request), request_line(request))
    return 0


def cmd_scope(args: argparse.Namespace, config: Config) -> int:
    from preservation.search_index import Filters

    filters = Filters(date_from=args.date_from, date_to=args.date_to, participant=args.participant, aip=args.record)
    with open_depot(args, config) as depot:
        gained = depot.add_to_scope(args.request, query=" ".join(args.query), filters=filters,
                                    seqs=seqs_of(args.messages), whole=args.whole, context=max(0, args.context))
        documents = [d for d in depot.documents(args.request) if not d.context]
    emit(args, {"request_id": args.request, "added": gained, "documents": len(documents)},
         f"{gained} document(s) added; the scope of {args.request} holds {len(documents)}")
    return 0


def cmd_unscope(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        removed = depot.remove_from_scope(args.request, record=args.record, seqs=seqs_of(args.messages))
    emit(args, {"request_id": args.request, "removed": removed}, f"{removed} removed from the scope")
    return 0


def cmd_decide(args: argparse.Namespace, config: Config) -> int:
    from access.redaction import PERSONAL
    from access.woo import beoordeling_of, grounds_of
    from edepot.service.woo import DocumentFilter, Verdict
    from preservation.woo_register import Redaction

    with open_depot(args, config) as depot:
        if args.sheet:
            if args.beoordeling or args.document or args.record:
                raise InputError("a sheet says everything itself: give --sheet alone")
            count = depot.decide_from_sheet(args.request, args.sheet)
        else:
            if not args.beoordeling:
                raise InputError("give the --beoordeling, or a --sheet of decisions")
            redactions = tuple(_redaction(spec, args.ground, Redaction) for spec in args.redact) + tuple(
                Redaction(0, 0, PERSONAL, name.strip()) for name in args.redact_name if name.strip())
            verdict = Verdict(beoordeling_of(args.beoordeling), grounds_of(args.ground), args.toelichting,
                              args.opgeschort, args.link, redactions)
            which = DocumentFilter(tuple(args.document), tuple(args.record), args.date_from, args.date_to,
                                   args.undecided)
            if not (which.documents or which.records or which.date_from or which.date_to or which.undecided):
                raise InputError("say which documents: --document, --record, --from/--to or --undecided")
            count = depot.decide(args.request, which, verdict)
        left = len(depot.undecided(args.request))
    emit(args, {"request_id": args.request, "decided": count, "undecided": left},
         f"{count} document(s) decided; {left} still undecided")
    return 0


def _redaction(spec: str, grounds: list[str], kind: Any) -> Any:
    from access.redaction import woo_ground

    span, _, ground = spec.partition(":")
    first, _, last = span.partition("-")
    try:
        start, end = int(first), int(last)
    except ValueError:
        raise InputError(f"--redact {spec!r}: write START-END[:GROUND], e.g. 12-27:5.1.2e") from None
    if start < 0 or end <= start:
        raise InputError(f"--redact {spec!r}: the span must have START < END")
    if not ground and not grounds:
        raise InputError(f"--redact {spec!r}: name the ground of the redaction")
    return kind(start, end, woo_ground(ground or grounds[0]))


def cmd_besluit(args: argparse.Namespace, config: Config) -> int:
    if args.queue:
        with open_depot(args, config) as depot:
            job = depot.queue_besluit(args.request)
        return emit_job(args, job, f"besluit of {args.request}")
    with open_depot(args, config) as depot:
        result = depot.besluit(args.request, out=args.out)
    document = result.to_dict()
    emit(args, document, f"besluit of {args.request}: {result.path} ({len(result.files)} files; "
                         "productierapport.xlsx, inventarislijst.pdf, documenten/)")
    return 0


def cmd_sent(args: argparse.Namespace, config: Config) -> int:
    from access.woo import objection_ends

    with open_depot(args, config) as depot:
        request = depot.mark_sent(args.request, on=args.on)
    assert request.besluit_on is not None
    emit(args, request_dict(request), f"{request.request_id} verstrekt op {request.besluit_on.isoformat()}; "
                                      f"bezwaartermijn tot en met {objection_ends(request.besluit_on).isoformat()}")
    return 0


def cmd_close(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        request, lifted = depot.close_request(args.request, reason=args.reason)
    emit(args, request_dict(request) | {"holds_lifted": lifted},
         f"{request.request_id} closed; {lifted} hold(s) lifted")
    return 0


def cmd_list(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        requests = depot.requests()
    emit(args, {"requests": [request_dict(r) for r in requests]},
         "\n".join(request_line(r) for r in requests) or "no Woo requests")
    return 0


def cmd_term(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        if args.verb == "extend":
            request = depot.extend(args.request, reason=args.reason)
        elif args.verb == "suspend":
            request = depot.suspend(args.request)
        else:
            request = depot.resume(args.request)
    emit(args, request_dict(request), request_line(request))
    return 0


def cmd_show(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        request = depot.request(args.request)
        documents = depot.documents(args.request)
    if args.undecided:
        documents = [d for d in documents if not d.context and d.decision is None]
    rows = [_document_dict(d) for d in documents]
    in_scope = [d for d in documents if not d.context]
    decided = sum(1 for d in in_scope if d.decision is not None)
    lines = [request_line(request),
             f"{len(in_scope)} document(s) in scope, {decided} decided, {len(in_scope) - decided} undecided"]
    if args.documents or args.undecided:
        lines += [_document_line(d) for d in documents]
    emit(args, request_dict(request) | {"documents": rows}, "\n".join(lines))
    return 0


def _document_dict(document: Document) -> dict[str, Any]:
    decision = document.decision
    return {"document_id": document.document_id, "record_id": document.record_id, "seq": document.seq,
            "context": document.context, "timestamp": document.timestamp.isoformat() if document.timestamp else None,
            "sender": document.sender, "text": document.text, "restriction": document.restriction,
            "decision": None if decision is None else {
                "beoordeling": decision.beoordeling, "grounds": list(decision.grounds),
                "toelichting": decision.toelichting, "opgeschort": decision.opgeschort, "link": decision.link,
                "redactions": [{"name": r.name, "ground": r.ground} if r.name else
                               {"start": r.start, "end": r.end, "ground": r.ground} for r in decision.redactions],
                "decided_by": decision.decided_by, "decided": decision.decided.isoformat()}}


def _document_line(document: Document) -> str:
    from access.woo import short_grounds

    decision = document.decision
    verdict = ("(context)" if document.context else "ONBESLIST") if decision is None else (
        decision.beoordeling + (f" {short_grounds(decision.grounds)}" if decision.grounds else "")
        + (" opgeschort" if decision.opgeschort else ""))
    when = document.timestamp.strftime("%Y-%m-%d %H:%M") if document.timestamp else ""
    return (f"  {document.document_id:<22} {when}  [{document.restriction}]  {verdict}\n"
            f"      {document.sender + ': ' if document.sender else ''}{document.text}")
