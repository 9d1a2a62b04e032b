"""The Depot service: every rule of edepot in one place, one module per area.

    ingest and preservation   edepot/service/ingest_and_preservation.py
    access and delivery       edepot/service/access_and_delivery.py
    retention and holds       edepot/service/retention_and_holds.py
    Woo requests              edepot/service/woo.py
    jobs done by workers      edepot/service/jobs.py
    SIPs uploaded in chunks   edepot/service/transfers.py
    people and organisations  edepot/service/people.py
    the web's sign-in         edepot/service/sign_in.py (the second factor, single sign-on)
    what needs attention      edepot/service/attention.py (the dashboard)
    the fixity overview       edepot/service/fixity.py (per location; run, restore, declare a loss)
    who may do what           edepot/service/authority.py (the roles of each action)

Build it with `Depot(config, person=...)` (or `Depot.open`); use it as a context manager.
"""
from __future__ import annotations

from edepot.service.access_and_delivery import AccessService
from edepot.service.attention import AttentionService
from edepot.service.fixity import FixityService
from edepot.service.ingest_and_preservation import PreservationService
from edepot.service.person import acting_person, acting_token
from edepot.service.retention_and_holds import RetentionService
from edepot.service.sign_in import SignInService
from edepot.service.transfers import TransfersService
from edepot.service.woo import WooService
from kernel.config import Config


class Depot(FixityService, PreservationService, AccessService, RetentionService, WooService, TransfersService,
            SignInService, AttentionService):
    """The e-Depot as a service: what may be done, by whom, with which PREMIS events."""

    @classmethod
    def open(cls, config: Config, *, user: str | None = None, address: str | None = None) -> "Depot":
        """The Depot for a data directory, acting as `user` (else $EDEPOT_USER, else the configured operator),
        who proves it with the token in $EDEPOT_TOKEN, from `address` (for the audit log)."""
        return cls(config, person=acting_person(config, user), token=acting_token(), address=address)
