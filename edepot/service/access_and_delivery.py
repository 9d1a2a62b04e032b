"""The Depot's rules for access: search, restrictions, permits, DIPs and their delivery, the access log.

What a person may see of a record is decided in one place below the service (`access/rules.py`, and for a
query `access/query_guard.py`). This module decides the rest: what a request must hold, which combinations make
sense, and who acts. The acting person is named in the access register and in every PREMIS event of a DIP,
purge, permit and restriction; a researcher's search takes the acting person as the researcher unless a
requester is named. A search records nothing, so it may be done by nobody in particular.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from edepot.service.base import DepotBase, audited
from kernel.errors import InputError, NotFound

if TYPE_CHECKING:
    from access.dip import DipRequest, DipResult
    from access.purge import Removal
    from access.redaction import ManualRedaction, Withholding
    from access.restrictions import RestrictionChange
    from access.search import Reindexed, SearchRequest, SearchResult
    from edepot.service.person import Person
    from preservation.access_register import DipEntry, LogEntry, Permit
    from preservation.job_register import JobRecord
    from preservation.leftovers import Leftover
    from preservation.search_index import Filters


@dataclass(frozen=True)
class DipOrder:
    """A DIP as asked for: whole records (AIP ids or kenmerken), or the messages a query finds (then at most one
    record, to search in); for a requester with a purpose, or without a requester the archive's own copy
    (whole, unredacted unless `auto_redact`); `woo_request` when it answers a Woo request. `view` is a view
    asked for by role: always refused, since a requester's DIP is the same whoever makes it."""

    records: tuple[str, ...] = ()
    query: str | None = None
    filters: Filters | None = None
    context: int = 0  # messages before and after each hit that come along
    requester: str | None = None
    purpose: str | None = None
    woo_request: str | None = None
    on: date | None = None  # the request date (default: today)
    expires: date | None = None
    redact_names: tuple[Path, ...] = ()
    manual: tuple[ManualRedaction, ...] = ()
    withhold: tuple[Withholding, ...] = ()
    auto_redact: bool = False
    view: str | None = None

    def to_arguments(self, names: Sequence[str]) -> dict[str, Any]:
        """The order as a job's arguments (JSON), its name files replaced by `names` (paths relative to the data
        directory, where the files were copied)."""
        from dataclasses import asdict

        return {"records": list(self.records), "query": self.query,
                "filters": self.filters.to_dict() if self.filters else None, "context": self.context,
                "requester": self.requester, "purpose": self.purpose, "woo_request": self.woo_request,
                "on": self.on.isoformat() if self.on else None,
                "expires": self.expires.isoformat() if self.expires else None, "redact_names": list(names),
                "manual": [asdict(m) for m in self.manual], "withhold": [asdict(w) for w in self.withhold],
                "auto_redact": self.auto_redact}

    @classmethod
    def from_arguments(cls, arguments: dict[str, Any], *, root: Path) -> DipOrder:
        """The order a job's arguments hold (`to_arguments`), its name files under `root`."""
        from access.redaction import ManualRedaction, Withholding
        from preservation.search_index import Filters

        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        given: dict[str, Any] | None = arguments.get("filters")
        fields: dict[str, Any] = {k: day(v) if k.startswith("date_") else tuple(v) if isinstance(v, list) else v
                                  for k, v in (given or {}).items()}
        filters = None if given is None else Filters(**fields)
        return cls(records=tuple(arguments["records"]), query=arguments["query"], filters=filters,
                   context=arguments["context"], requester=arguments["requester"], purpose=arguments["purpose"],
                   woo_request=arguments["woo_request"], on=day(arguments["on"]), expires=day(arguments["expires"]),
                   redact_names=tuple(root / n for n in arguments["redact_names"]),
                   manual=tuple(ManualRedaction(**m) for m in arguments["manual"]),
                   withhold=tuple(Withholding(**w) for w in arguments["withhold"]),
                   auto_redact=arguments["auto_redact"])


@dataclass(frozen=True)
class DipPurge:
    """What a purge removed: expired DIPs, and the staging of DIPs whose making was killed."""

    removals: list[Removal] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"purged": [r.to_dict() for r in self.removals], "leftovers": [f.to_dict() for f in self.leftovers]}


class AccessService(DepotBase):
    """Search, access decisions and delivery, each done by the acting person."""

    # -- DIPs

    @audited("dip create")
    def create_dip(self, order: DipOrder, *, out: Path) -> DipResult:
        """Build the DIP `order` asks for at `out`, made by the acting person. InputError for an order that
        makes no sense: neither records nor a query, a query over several records, a requester without a
        purpose, a Woo request for the archive's own use, an expiry before the request date, a view by role."""
        from access.dip import build_dip

        request, action, person = self._dip_request(order)
        return build_dip(out, request, self.config, store=self.store, by=person.name,
                         aip_ids=() if order.query else order.records, organisations=self.reach(action))

    @audited("dip queue")
    def queue_dip(self, order: DipOrder) -> JobRecord:
        """Check the order as `create_dip` does and queue its making by a worker, as the acting person: the DIP
        is made under `<data>/dips/<job>/`; the name files are copied into the job's intake folder first."""
        import shutil
        import uuid

        from edepot.service.job_kinds import DIP
        from edepot.service.jobs import enqueue_job, intake_folder

        _, _, person = self._dip_request(order)
        job_id = str(uuid.uuid4())
        names = []
        for n, source in enumerate(order.redact_names):
            copy = intake_folder(self.config, job_id) / f"names-{n + 1}.txt"
            copy.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(source, copy)
            except OSError as error:
                raise InputError(f"cannot read the names file {source}: {error.strerror}") from None
            names.append(str(copy.relative_to(self.config.data_dir)))
        return enqueue_job(self, DIP, order.to_arguments(names), by=person, job_id=job_id)

    def _dip_request(self, order: DipOrder) -> tuple[DipRequest, str, Person]:
        """The DIP request an order makes, the action it is, and the acting person, allowed to do it."""
        from access.dip import OWN_USE, DipRequest
        from preservation.search_index import Filters

        if order.view is not None:
            raise InputError("a requester's DIP is the same whoever makes it: there is no view to choose",
                             hint="leave out the requester for the archive's own DIP, or name the Woo request "
                                  "the DIP answers")
        if not order.records and not (order.query or "").strip():
            raise InputError("name the records to deliver, or a query that finds the messages to deliver")
        if order.query and len(order.records) > 1:
            raise InputError("a query searches all records, or one record: name at most one with it")
        requester = (order.requester or "").strip()
        purpose = (order.purpose or "").strip()
        own_use = not requester
        if not own_use and not purpose:
            raise InputError("give the requester and the purpose of this DIP")
        if requester.casefold() == OWN_USE:
            raise InputError(f"{requester!r} is not a requester", hint="the archive's own DIP names no requester")
        if order.woo_request is not None and not order.woo_request.strip():
            raise InputError("a DIP that answers a Woo request needs the request's identifier")
        if own_use and order.woo_request is not None:
            raise InputError("the archive's own DIP answers no Woo request",
                             hint="name the requester and the purpose of the delivery")
        on = order.on or self.now().date()
        if order.expires is not None and order.expires < on:
            raise InputError(f"the DIP would expire ({order.expires.isoformat()}) before its request date "
                             f"{on.isoformat()}")
        action = "deliver a Woo decision" if order.woo_request is not None else "make a DIP"
        person = self.authorise(action, [o for r in order.records for o in self.may_read_record(action, r)])
        filters = order.filters or Filters()
        if order.query and order.records:
            filters = replace(filters, aip=order.records[0])
        request = DipRequest(
            requester=OWN_USE if own_use else requester, purpose=purpose or OWN_USE, on=on, expires=order.expires,
            redact_names=order.redact_names, manual=order.manual, withhold=order.withhold,
            auto_redact=order.auto_redact, query=order.query, filters=filters, context=max(0, order.context),
            own_use=own_use, woo_request=order.woo_request.strip() if order.woo_request else None)
        return request, action, person

    @audited("dip purge")
    def purge_dips(self, *, on: date | None = None) -> DipPurge:
        """Remove the DIPs whose expiry day lies before `on` (default today), each logged as purged by the acting
        person, and the staging of DIPs whose making was killed."""
        from access.purge import clear_dip_leftovers, purge_expired

        person = self.authorise("purge DIPs", everywhere=True)
        removals = purge_expired(self.config, self.register, by=person.name, on=on)
        return DipPurge(removals, clear_dip_leftovers(self.config))

    @audited("dip list")
    def dips(self) -> list[DipEntry]:
        """Every DIP delivered of the acting person's organisations' records, with requester, purpose, expiry and
        state, oldest first."""
        reach = self.reach("list DIPs")
        if reach is None:
            return self.register.dips()
        owner = {a.aip_id: a.organisation for a in self.catalogue.aips()}
        return [d for d in self.register.dips()
                if all(owner.get(a.aip_id, "") in reach for a in self.register.dip_aips(d.dip_id))]

    # -- openness, permits, the access log

    @audited("access set")
    def set_restriction(self, record: str, *, label: str, grounds: Sequence[str] = (), until: date | None = None,
                        reason: str) -> RestrictionChange:
        """Decide a record's openness (its beperkingGebruik type, legal grounds, last day) as the acting person,
        with the reason; it replaces what the record's MDTO says and leaves a PREMIS event naming the person."""
        from access.restrictions import restriction_of, set_restriction

        restriction = restriction_of(label, grounds, until)
        if not reason.strip():
            raise InputError("a decision on a record's openness needs its reason")
        person = self.authorise_record("decide openness", record)
        return set_restriction(self.store, record, restriction, by=person.name, reason=reason, at=self.now())

    @audited("access permit")
    def grant_permit(self, record: str, *, to: str, until: date, reason: str) -> Permit:
        """Let the person `to` have a restricted record (AIP id or kenmerk) up to and including `until`, granted by
        the acting person for `reason`; logged in the access log."""
        grantee, why = to.strip(), reason.strip()
        if not grantee or not why:
            raise InputError("a permit names the person it is for and the reason")
        if until < self.now().date():
            raise InputError(f"a permit until {until.isoformat()} would have ended already")
        person = self.authorise_record("grant a permit", record)
        if self.store.directory.has_people():  # a permit names a registered person, as their searches do
            registered = self.store.directory.person(grantee)
            if registered is None or not registered.active:
                raise InputError(f"a permit is for a registered person, and {grantee!r} is not one",
                                 hint="an administrator registers the person first")
            grantee = registered.name
        records = {a.record_id for a in self.catalogue.aips() if record in (a.aip_id, a.record_id)}
        if not records:
            raise NotFound(f"no record or AIP {record!r} in the catalogue",
                           hint="list the AIPs and records the catalogue holds").with_facts(unknown_aip=record)
        return self.register.grant_permit(records.pop(), grantee, until, why, person.name, self.now())

    @audited("access permits")
    def permits(self, grantee: str | None = None) -> list[Permit]:
        """Every permit (of one person) for records of the acting person's organisations, oldest first."""
        return self.own_records(self.register.permits(grantee), "read the access log")

    @audited("access log")
    def access_log(self, *, requester: str | None = None, dip_id: str | None = None) -> list[LogEntry]:
        """Who got what, when, why and until when, and who did it (of one requester, or about one DIP)."""
        reach = self.reach("read the access log")
        owner = {a.record_id: a.organisation for a in self.catalogue.aips()}
        return [e for e in self.register.log(requester, dip_id)
                if reach is None or all(owner.get(r, "") in reach for r in e.records)]

    # -- search

    @audited("search")
    def search(self, request: SearchRequest) -> SearchResult:
        """One page of hits and their total. A researcher's view is the named requester's, else the acting
        person's (their permits count), else anybody's; the archive's view shows everything. InputError for a
        search with neither words nor a filter."""
        from access.redaction import organisation_names
        from access.rules import Role, role_of
        from access.search import search

        if not request.query.strip() and not request.filters.narrows():
            raise InputError("give words to search for, or a filter (kind, participant, custodian, record, …)")
        role = role_of(request.role) if isinstance(request.role, str) else request.role
        searcher = request.requester
        if role is Role.RESEARCHER and not searcher and self.person is not None:
            searcher = self.person.name
        asked = replace(request, role=role, requester=searcher, on=request.on or self.now().date(),
                        limit=max(1, request.limit), offset=max(0, request.offset))
        # A researcher searches the open content of every organisation; the archive's view is of the
        # organisations the acting person serves.
        organisations = None if role is Role.RESEARCHER else self.reach("search the archive")
        if role is Role.RESEARCHER and not self._anonymous_reading() and self.person is not None:
            self.authorise("search as a researcher")
        return search(self.store, asked, names=organisation_names(self.config), organisations=organisations)

    @audited("search reindex")
    def reindex(self, aip_id: str | None = None, *,
                on_progress: Callable[[int, int], None] | None = None) -> list[Reindexed]:
        """Rebuild the search index of every AIP (or one) from its stored conversation and MDTO."""
        from access.search import reindex

        self.authorise("rebuild the search index", everywhere=True)

        return reindex(self.config, self.store, aip_id=aip_id, on_progress=on_progress)
