"""The Woo register port (`preservation.woo_register.WooRegister`) on the catalogue's Django models. A whole
chat as one document is kept with seq 0 (messages are numbered from 1)."""
from __future__ import annotations

from typing import Any, Sequence

from preservation.woo_register import Redaction, ScopeEntry, WooDecision, WooRequest

_REQUEST_FIELDS = ("request_id", "organisation", "requester", "subject", "received", "deadline", "extended", "state",
                   "opened_by", "opened", "suspended_since", "besluit_on", "closed_on", "besluit_path")
_WHOLE_CHAT = 0


def _seq_in(seq: int | None) -> int:
    return _WHOLE_CHAT if seq is None else seq


def _seq_out(seq: int) -> int | None:
    return None if seq == _WHOLE_CHAT else seq


class DjangoWooRegister:
    """Woo requests, scope and decisions in the catalogue behind a Django database alias."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def _models(self) -> Any:
        from preservation.catalogue_db import models

        return models

    def save_request(self, request: WooRequest) -> None:
        """Insert the request, or replace what is kept of it."""
        values = {name: getattr(request, name) for name in _REQUEST_FIELDS}
        self._models().WooRequest.objects.using(self._alias).update_or_create(
            request_id=request.request_id, defaults=values)

    def request(self, request_id: str) -> WooRequest | None:
        """The request, or None."""
        row = self._models().WooRequest.objects.using(self._alias).filter(request_id=request_id) \
            .values_list(*_REQUEST_FIELDS).first()
        return WooRequest(*row) if row else None

    def requests(self) -> list[WooRequest]:
        """Every request, oldest received first."""
        rows = self._models().WooRequest.objects.using(self._alias).order_by("received", "request_id")
        return [WooRequest(*row) for row in rows.values_list(*_REQUEST_FIELDS)]

    def add_to_scope(self, entries: Sequence[ScopeEntry]) -> int:
        """Add entries; one already there stays, except that context becomes a document when added as one."""
        from django.db import transaction

        model = self._models().WooScopeEntry
        gained = 0
        with transaction.atomic(using=self._alias):
            for entry in entries:
                rows = model.objects.using(self._alias).filter(request_id=entry.request_id,
                                                              record_id=entry.record_id, seq=_seq_in(entry.seq))
                existing = rows.values_list("context", flat=True).first()
                if existing is None:
                    model.objects.using(self._alias).create(
                        request_id=entry.request_id, record_id=entry.record_id, seq=_seq_in(entry.seq),
                        context=entry.context, origin=entry.origin, added_by=entry.added_by, added=entry.added)
                    gained += not entry.context
                elif existing and not entry.context:
                    rows.update(context=False, origin=entry.origin, added_by=entry.added_by, added=entry.added)
                    gained += 1
        return gained

    def remove_from_scope(self, request_id: str, record_id: str, seqs: Sequence[int] | None) -> int:
        """Remove the record's entries (only `seqs` when given) and their decisions; how many were removed."""
        from django.db import transaction

        models = self._models()
        with transaction.atomic(using=self._alias):
            removed = 0
            for model in (models.WooScopeEntry, models.WooDecision):
                rows = model.objects.using(self._alias).filter(request_id=request_id, record_id=record_id)
                if seqs is not None:
                    rows = rows.filter(seq__in=list(seqs))
                count, _ = rows.delete()
                removed = removed or count
        return removed

    def scope(self, request_id: str) -> list[ScopeEntry]:
        """The scope in record and message order."""
        rows = self._models().WooScopeEntry.objects.using(self._alias).filter(request_id=request_id) \
            .order_by("record_id", "seq")
        return [ScopeEntry(request_id, record, _seq_out(seq), context, origin, by, added)
                for record, seq, context, origin, by, added
                in rows.values_list("record_id", "seq", "context", "origin", "added_by", "added")]

    def decide(self, decisions: Sequence[WooDecision]) -> None:
        """Keep each decision, replacing an earlier one on the same document."""
        from django.db import transaction

        model = self._models().WooDecision
        with transaction.atomic(using=self._alias):
            for d in decisions:
                model.objects.using(self._alias).update_or_create(
                    request_id=d.request_id, record_id=d.record_id, seq=_seq_in(d.seq),
                    defaults={"beoordeling": d.beoordeling, "grounds": list(d.grounds), "toelichting": d.toelichting,
                              "opgeschort": d.opgeschort, "link": d.link,
                              "redactions": [[r.start, r.end, r.ground, r.name] for r in d.redactions],
                              "decided_by": d.decided_by, "decided": d.decided})

    def decisions(self, request_id: str) -> list[WooDecision]:
        """Every decision of the request, in record and message order."""
        rows = self._models().WooDecision.objects.using(self._alias).filter(request_id=request_id) \
            .order_by("record_id", "seq")
        return [WooDecision(request_id, record, _seq_out(seq), beoordeling, tuple(grounds), toelichting, opgeschort,
                            link, tuple(Redaction(*r) for r in redactions), by, at)
                for record, seq, beoordeling, grounds, toelichting, opgeschort, link, redactions, by, at
                in rows.values_list("record_id", "seq", "beoordeling", "grounds", "toelichting", "opgeschort",
                                    "link", "redactions", "decided_by", "decided")]
