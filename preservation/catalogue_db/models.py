"""The catalogue's tables as Django models (OAIS Data Management and the access register).

Table names are the catalogue's own since 0.2.0 (`aips`, `events`, …), so that reports, the search index's SQL
and an operator's own queries keep working. Rows whose order of writing matters (events, history, journal, log)
have an integer key that keeps that order; natural keys (AIP id, event id, list id) are unique columns.
Times are stored as timestamps with time zone (UTC); JSON columns hold what the engine writes as JSON.
"""
from __future__ import annotations

from django.db import models

from preservation.catalogue_db.nul_text import NulTextField


class Aip(models.Model):
    aip_id = models.CharField(primary_key=True, max_length=100)
    sip_digest = models.CharField(max_length=200, db_index=True)
    record_id = models.CharField(max_length=500, db_index=True)
    title = models.TextField()
    created = models.DateTimeField()
    state = models.CharField(max_length=20)
    payload_bytes = models.BigIntegerField()
    payload_files = models.IntegerField()
    # The organisation (archiefvormer) the record belongs to: an Organisation's id, or "" for a record ingested
    # before organisations were registered, which only people serving every organisation see.
    organisation = models.CharField(max_length=100, default="", db_index=True)

    class Meta:
        db_table = "aips"
        indexes = [models.Index(fields=["record_id", "organisation"], name="aips_record_organisation"),
                   models.Index(fields=["state"], name="aips_state"),
                   # the AIP screens list newest first, of every organisation or of some
                   models.Index(fields=["created", "aip_id"], name="aips_created"),
                   models.Index(fields=["organisation", "created", "aip_id"], name="aips_organisation_created"),
                   # the fixity overview sums each replica's AIP: read from this index alone, not from the AIP's row
                   models.Index(fields=["aip_id", "state", "organisation", "payload_bytes"], name="aips_fixity")]


class StorageLocation(models.Model):
    """A storage location by its stable identity: the name and folder it had when last registered."""

    location_id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(max_length=200)
    root = models.TextField()
    registered = models.DateTimeField()

    class Meta:
        db_table = "storage_locations"


class Replica(models.Model):
    aip = models.ForeignKey(Aip, on_delete=models.PROTECT, db_column="aip_id", related_name="+")
    location = models.CharField(max_length=200)
    path = models.TextField()
    last_verified = models.DateTimeField(null=True)
    status = models.CharField(max_length=20)

    class Meta:
        db_table = "replicas"
        constraints = [models.UniqueConstraint(fields=["aip", "location"], name="replicas_aip_location")]
        indexes = [models.Index(fields=["status"], name="replicas_status"),  # the few damaged or missing
                   # the fixity overview's figures per location, from this index alone
                   models.Index(fields=["location", "aip", "last_verified", "status"], name="replicas_fixity")]


class File(models.Model):
    aip = models.ForeignKey(Aip, on_delete=models.PROTECT, db_column="aip_id", related_name="+")
    path = models.TextField()
    role = models.CharField(max_length=20)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    puid = models.CharField(max_length=50, null=True)
    format_name = models.TextField(null=True)
    mime_type = models.CharField(max_length=200, null=True)

    class Meta:
        db_table = "files"
        constraints = [models.UniqueConstraint(fields=["aip", "path"], name="files_aip_path")]
        # the AIPs holding a format, by its PUID or by its name
        indexes = [models.Index(fields=["puid", "aip"], name="files_puid"),
                   models.Index(fields=["format_name", "puid"], name="files_format_name")]


class Event(models.Model):
    """A PREMIS event; about one AIP, or about the repository itself (no AIP)."""

    event_id = models.CharField(max_length=100, unique=True)
    aip = models.ForeignKey(Aip, on_delete=models.PROTECT, db_column="aip_id", null=True, related_name="+")
    type = models.CharField(max_length=100)
    date_time = models.DateTimeField()
    outcome = models.CharField(max_length=50)
    detail = models.TextField()
    outcome_detail = models.TextField()
    agents = models.JSONField()
    source_objects = models.JSONField()
    outcome_objects = models.JSONField()

    class Meta:
        db_table = "events"
        indexes = [models.Index(fields=["aip", "date_time"], name="events_aip"),
                   models.Index(fields=["type", "date_time"], name="events_type")]


class Identification(models.Model):
    aip = models.ForeignKey(Aip, on_delete=models.PROTECT, db_column="aip_id", related_name="+")
    path = models.TextField()
    tool = models.CharField(max_length=100)
    signature_release = models.CharField(max_length=100)
    puid = models.CharField(max_length=50, null=True)
    format_name = models.TextField(null=True)
    format_version = models.CharField(max_length=100, null=True)
    mime_type = models.CharField(max_length=200, null=True)
    basis = models.TextField()

    class Meta:
        db_table = "identifications"
        constraints = [models.UniqueConstraint(fields=["aip", "path", "tool"], name="identifications_aip_path_tool")]


class AipVersion(models.Model):
    aip = models.OneToOneField(Aip, on_delete=models.PROTECT, primary_key=True, db_column="aip_id",
                               related_name="+")
    version = models.IntegerField()
    previous_aip = models.ForeignKey(Aip, on_delete=models.PROTECT, null=True, db_column="previous_aip",
                                     related_name="+")
    first_aip = models.CharField(max_length=100)

    class Meta:
        db_table = "aip_versions"


class Dip(models.Model):
    """A DIP made of one AIP (the access register's `AccessDip` says who received it)."""

    dip_id = models.CharField(primary_key=True, max_length=200)
    aip = models.ForeignKey(Aip, on_delete=models.PROTECT, db_column="aip_id", related_name="+")
    path = models.TextField()
    created = models.DateTimeField()

    class Meta:
        db_table = "dips"


class FileLoss(models.Model):
    aip = models.ForeignKey(Aip, on_delete=models.PROTECT, db_column="aip_id", related_name="+")
    path = models.TextField()
    declared = models.DateTimeField()
    declared_by = models.CharField(max_length=200)
    reason = models.TextField()

    class Meta:
        db_table = "file_losses"
        constraints = [models.UniqueConstraint(fields=["aip", "path"], name="file_losses_aip_path")]


class FixityTally(models.Model):
    """What one fixity run (or one restore from an outside copy) did at one storage location to one
    organisation's AIPs: a summary for the fixity overview, written after the run. The PREMIS events remain the
    record (journalled, rebuilt); this table is not rebuilt by `catalogue rebuild`."""

    run_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)  # "run" or "restore"
    location = models.CharField(max_length=200)
    organisation = models.CharField(max_length=100, default="")
    started = models.DateTimeField()
    finished = models.DateTimeField()
    by = models.CharField(max_length=300)
    scheduled = models.BooleanField(default=False)  # by the data directory's operator (the scheduled run)
    aips = models.IntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    found = models.IntegerField(default=0)  # damage found
    repaired = models.IntegerField(default=0)  # of it mended (or files restored, for a restore)
    unrepaired = models.IntegerField(default=0)

    class Meta:
        db_table = "fixity_tallies"
        indexes = [models.Index(fields=["location", "finished"], name="fixity_tallies_location"),
                   models.Index(fields=["run_id"], name="fixity_tallies_run")]


# -- retention: schedules, appraisal history, holds, destruction


class Retention(models.Model):
    record_id = models.CharField(primary_key=True, max_length=500)
    aip_id = models.CharField(max_length=100)
    title = models.TextField()
    mdto = models.JSONField()
    override = models.JSONField()
    updated = models.DateTimeField()
    # What the schedule says, computed from mdto and override whenever they are written, so that the records due
    # are selected, counted and grouped in the database (`preservation.retention.stored_schedule`).
    status = models.CharField(max_length=20, default="", db_default="")
    destruction_date = models.DateField(null=True)
    term_start = models.DateField(null=True)  # of a B record: its transfer date is this plus the transfer term
    category = models.CharField(max_length=200, default="", db_default="")  # selectielijst code, else label
    category_label = models.TextField(default="", db_default="")

    class Meta:
        db_table = "retention"
        indexes = [models.Index(fields=["status", "destruction_date"], name="retention_due"),
                   models.Index(fields=["status", "term_start"], name="retention_transfer")]


class AppraisalChange(models.Model):
    record_id = models.CharField(max_length=500)
    at = models.DateTimeField()
    action = models.CharField(max_length=100)
    by = models.CharField(max_length=200)
    reason = models.TextField()
    before = models.JSONField(null=True)
    after = models.JSONField()

    class Meta:
        db_table = "appraisal_history"
        indexes = [models.Index(fields=["record_id", "at"], name="appraisal_history_record")]


class Hold(models.Model):
    hold_id = models.CharField(max_length=100, unique=True)
    record_id = models.CharField(max_length=500, db_index=True)
    reason = models.TextField()
    placed_by = models.CharField(max_length=200)
    placed_at = models.DateTimeField()
    lifted_by = models.CharField(max_length=200, null=True)
    lifted_at = models.DateTimeField(null=True)
    lift_reason = models.TextField(null=True)

    class Meta:
        db_table = "holds"
        indexes = [models.Index(fields=["lifted_at"], name="holds_lifted_at")]


class DestructionList(models.Model):
    list_id = models.CharField(primary_key=True, max_length=100)
    created = models.DateTimeField()
    digest = models.CharField(max_length=200)
    content = models.JSONField()

    class Meta:
        db_table = "destruction_lists"


class DestructionApproval(models.Model):
    destruction_list = models.ForeignKey(DestructionList, on_delete=models.PROTECT, db_column="list_id",
                                         related_name="+")
    digest = models.CharField(max_length=200)
    by = models.CharField(max_length=200)
    role = models.CharField(max_length=100)
    at = models.DateTimeField()
    verdict = models.CharField(max_length=20, default="approved", db_default="approved")  # or "rejected"
    reason = models.TextField(default="", db_default="")

    class Meta:
        db_table = "destruction_approvals"


class DestructionStep(models.Model):
    """One step of a destruction in its journal: written "started" before the step and "done" after."""

    list_id = models.CharField(max_length=100)
    record_id = models.CharField(max_length=500)
    step = models.CharField(max_length=100)
    target = models.TextField()
    state = models.CharField(max_length=20)
    at = models.DateTimeField()

    class Meta:
        db_table = "destruction_journal"
        constraints = [models.UniqueConstraint(fields=["list_id", "record_id", "step", "target"],
                                               name="destruction_journal_step")]


class Tombstone(models.Model):
    record_id = models.CharField(primary_key=True, max_length=500)
    list_id = models.CharField(max_length=100)
    destroyed = models.DateTimeField()
    content = models.JSONField()

    class Meta:
        db_table = "tombstones"


# -- access register: permits, delivered DIPs, the access log, restriction decisions


class AccessPermit(models.Model):
    permit_id = models.CharField(primary_key=True, max_length=100)
    record_id = models.CharField(max_length=500)
    grantee = models.CharField(max_length=200)
    until = models.DateField()
    reason = models.TextField()
    granted_by = models.CharField(max_length=200)
    granted = models.DateTimeField()

    class Meta:
        db_table = "access_permits"
        indexes = [models.Index(fields=["record_id", "grantee"], name="access_permits_record")]


class AccessDip(models.Model):
    dip_id = models.CharField(primary_key=True, max_length=200)
    path = models.TextField()
    requester = models.CharField(max_length=200)
    purpose = models.TextField()
    role = models.CharField(max_length=100)
    request_date = models.DateField()
    created = models.DateTimeField()
    expires = models.DateField(null=True)
    state = models.CharField(max_length=20)
    purged = models.DateTimeField(null=True)
    selection = models.JSONField()
    files = models.IntegerField()

    class Meta:
        db_table = "access_dips"


class AccessDipAip(models.Model):
    dip = models.ForeignKey(AccessDip, on_delete=models.PROTECT, db_column="dip_id", related_name="+")
    aip_id = models.CharField(max_length=100, db_index=True)
    record_id = models.CharField(max_length=500)
    decision = models.CharField(max_length=50)
    messages = models.IntegerField()
    redactions = models.IntegerField()

    class Meta:
        db_table = "access_dip_aips"
        constraints = [models.UniqueConstraint(fields=["dip", "aip_id"], name="access_dip_aips_dip_aip")]


class AccessLogEntry(models.Model):
    entry_id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    action = models.CharField(max_length=50)
    actor = models.CharField(max_length=200)
    requester = models.CharField(max_length=200)
    purpose = models.TextField()
    dip_id = models.CharField(max_length=200, null=True)
    records = models.JSONField()
    until = models.DateField(null=True)
    detail = models.TextField()

    class Meta:
        db_table = "access_log"


class RestrictionDecision(models.Model):
    entry_id = models.BigAutoField(primary_key=True)
    record_id = models.CharField(max_length=500)
    at = models.DateTimeField()
    by = models.CharField(max_length=200)
    reason = models.TextField()
    label = models.CharField(max_length=100)
    grounds = models.JSONField()
    until = models.DateField(null=True)

    class Meta:
        db_table = "access_restrictions"
        indexes = [models.Index(fields=["record_id", "entry_id"], name="access_restrictions_record")]


# -- the search index's plain tables (its full-text part is in the migrations, per database)


class SearchMeta(models.Model):
    key = models.CharField(primary_key=True, max_length=100)
    value = models.TextField()

    class Meta:
        db_table = "search_meta"


class SearchRecord(models.Model):
    record_key = models.BigAutoField(primary_key=True)
    aip_id = models.CharField(max_length=100, unique=True)
    record_id = models.CharField(max_length=500, db_index=True)
    title = models.TextField()
    access = models.TextField()
    zaak_folded = models.TextField()
    classificatie_folded = models.TextField()
    current = models.IntegerField()
    messages = models.IntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    indexed = models.TextField()

    class Meta:
        db_table = "search_records"


class SearchSender(models.Model):
    sender_key = models.BigAutoField(primary_key=True)
    name = NulTextField(unique=True)

    class Meta:
        db_table = "search_senders"


class SearchMessage(models.Model):
    message_id = models.BigAutoField(primary_key=True)
    record_key = models.BigIntegerField()
    seq = models.IntegerField()
    ts = models.BigIntegerField()
    utc_offset = models.IntegerField()
    sender_key = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=50)
    body = NulTextField()

    class Meta:
        db_table = "search_messages"
        # by record and time: a record's messages in time order (a search of a few records by time), and all of a
        # record's messages (removing them)
        indexes = [models.Index(fields=["record_key", "ts", "message_id"], name="search_messages_record_time"),
                   models.Index(fields=["ts", "message_id"], name="search_messages_time")]


# -- People, organisations, roles and the audit log


class Organisation(models.Model):
    """An archiefvormer this e-Depot serves, by its identifier (e.g. the TOOI code gm0363)."""

    organisation_id = models.CharField(primary_key=True, max_length=100)
    name = models.CharField(max_length=300, unique=True)
    created = models.DateTimeField()
    created_by = models.CharField(max_length=300)

    class Meta:
        db_table = "organisations"


class Person(models.Model):
    """A registered person; `key` is the name with case and spacing folded (one person, however typed)."""

    person_id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=300)
    key = models.CharField(max_length=300, unique=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField()
    created_by = models.CharField(max_length=300)
    disabled = models.DateTimeField(null=True)
    disabled_by = models.CharField(max_length=300, default="")
    password = models.CharField(max_length=200, default="")  # a salted hash for the web's sign-in; "" none set
    # the web's second factor: a TOTP secret (hex; "" none) and the last time step a code was accepted for
    totp_secret = models.CharField(max_length=80, default="")
    totp_step = models.BigIntegerField(default=0)
    provider = models.CharField(max_length=50, default="")  # "" signs in here; "oidc": through the OIDC provider

    class Meta:
        db_table = "people"


class RoleGrant(models.Model):
    """One role of a person for one organisation, or (organisation null) for every organisation served."""

    grant_id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=50)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, related_name="+")
    granted = models.DateTimeField()
    granted_by = models.CharField(max_length=300)

    class Meta:
        db_table = "role_grants"


class PersonToken(models.Model):
    """A personal credential: only the sha256 of the token is kept."""

    token_id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField()
    created_by = models.CharField(max_length=300)
    revoked = models.DateTimeField(null=True)

    class Meta:
        db_table = "person_tokens"


class AuditEntry(models.Model):
    """One action: who, what, on what, when, from where, and how it ended. Append only (triggers refuse a change
    other than dropping the address once its keeping period is over)."""

    entry_id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    person = models.CharField(max_length=300, db_index=True)
    action = models.CharField(max_length=100)
    target = models.TextField()
    organisation = models.CharField(max_length=100, default="")
    outcome = models.CharField(max_length=20)
    detail = models.TextField()
    address = models.CharField(max_length=300, null=True)

    class Meta:
        db_table = "audit_log"
        # one person's entries, newest first, however few they are in a long log (of some organisations)
        indexes = [models.Index(fields=["person", "entry_id"], name="audit_log_person_entry"),
                   models.Index(fields=["person", "organisation", "entry_id"], name="audit_log_person_organisation")]


# -- Woo requests: the request, its scope, a decision per document (seq 0: a whole chat as one document)


class WooRequest(models.Model):
    request_id = models.CharField(primary_key=True, max_length=100)
    organisation = models.CharField(max_length=100, db_index=True)
    requester = models.CharField(max_length=300)
    subject = models.TextField()
    received = models.DateField()
    deadline = models.DateField()
    extended = models.BooleanField(default=False)
    state = models.CharField(max_length=30)
    opened_by = models.CharField(max_length=300)
    opened = models.DateTimeField()
    suspended_since = models.DateField(null=True)
    besluit_on = models.DateField(null=True)
    closed_on = models.DateField(null=True)
    besluit_path = models.TextField(null=True)

    class Meta:
        db_table = "woo_requests"


class WooScopeEntry(models.Model):
    entry_id = models.BigAutoField(primary_key=True)
    request = models.ForeignKey(WooRequest, on_delete=models.CASCADE, db_column="request_id", related_name="+")
    record_id = models.CharField(max_length=500)
    seq = models.IntegerField()
    context = models.BooleanField(default=False)
    origin = models.TextField()
    added_by = models.CharField(max_length=300)
    added = models.DateTimeField()

    class Meta:
        db_table = "woo_scope"
        constraints = [models.UniqueConstraint(fields=["request", "record_id", "seq"], name="woo_scope_document")]


class WooDecision(models.Model):
    entry_id = models.BigAutoField(primary_key=True)
    request = models.ForeignKey(WooRequest, on_delete=models.CASCADE, db_column="request_id", related_name="+")
    record_id = models.CharField(max_length=500)
    seq = models.IntegerField()
    beoordeling = models.CharField(max_length=50)
    grounds = models.JSONField()
    toelichting = models.TextField()
    opgeschort = models.BooleanField(default=False)
    link = models.TextField()
    redactions = models.JSONField()
    decided_by = models.CharField(max_length=300)
    decided = models.DateTimeField()

    class Meta:
        db_table = "woo_decisions"
        constraints = [models.UniqueConstraint(fields=["request", "record_id", "seq"], name="woo_decision_document")]


# -- jobs: long work queued and done by workers (the queue itself is django_tasks_db's table)


class Job(models.Model):
    job_id = models.CharField(primary_key=True, max_length=100)
    kind = models.CharField(max_length=50)
    arguments = models.JSONField()  # never a secret
    state = models.CharField(max_length=20, db_index=True)
    progress = models.JSONField(default=dict)
    report = models.JSONField(null=True)
    error = models.TextField(default="")
    attempts = models.IntegerField(default=0)
    fencing = models.BigIntegerField(default=0)  # raised at every claim: a worker holding an older one may not finish
    worker = models.CharField(max_length=200, default="")
    lease_expires = models.DateTimeField(null=True)
    heartbeat = models.DateTimeField(null=True)
    task_id = models.CharField(max_length=100, default="")  # the queue entry that runs it
    enqueued_by = models.CharField(max_length=300)
    verified = models.BooleanField(default=False)  # the person gave their own token when queueing it
    organisation = models.CharField(max_length=100, default="")  # whose records it works on ("": unknown, or all)
    created = models.DateTimeField()
    started = models.DateTimeField(null=True)
    finished = models.DateTimeField(null=True)

    class Meta:
        db_table = "jobs"
        indexes = [models.Index(fields=["organisation", "state"], name="jobs_organisation_state"),
                   models.Index(fields=["-created", "job_id"], name="jobs_newest")]  # the monitor's pages
