"""Configuration: where data lives and the documented defaults a SIP falls back on.

Read from `<data-dir>/edepot.toml` when it exists, over the defaults below. The data directory is
`--data-dir`, else `$EDEPOT_DATA`, else `./edepot-data` (DESIGN.md, command-line contract).

    [organisation]
    archiefvormer = "Gemeente Voorbeeldstad"
    archiefvormer_id = "gm9999"          # e.g. the TOOI/CBS code
    identificatie_bron = "e-Depot Gemeente Voorbeeldstad"

    [storage]
    locations = ["/srv/edepot/a", "/mnt/replica/b"]   # default: <data-dir>/storage/location-1 and -2
    # or with a stable identity and a name each (a folder alone gets its identity once, kept in the location):
    # locations = [{root = "/srv/edepot/a", id = "kelder", name = "Kelder stadhuis"}, "/mnt/replica/b"]
    # an S3 bucket (credentials from the AWS environment variables, else from the `secrets` file):
    # [[storage.locations]]
    # kind = "s3"; id = "bak"; name = "Objectopslag"; bucket = "edepot"; prefix = "archief"
    # endpoint_url = "https://s3.example.nl"; region = "eu-west-1"; secrets = "/etc/edepot/s3.toml"

    [catalogue]
    url = "sqlite:///srv/edepot/catalogue.sqlite"      # default: <data-dir>/catalogue.sqlite

    [schemas]
    dir = "/srv/edepot/schemas"   # holds mdto/MDTO-XML1.0.1.xsd and premis/premis-v3-0.xsd

    [scan]
    database = "/var/lib/clamav"  # ClamAV signatures (freshclam's); default: $EDEPOT_SCAN_DATABASE, else a
                                  # running clamd, else clamscan's own
    required = false              # ingest unscanned when there is no signature database (default true: refuse)

    [identify]
    siegfried = true              # a second opinion from siegfried (pygfried); disagreements are reported

    [audit]
    keep_addresses_days = 365     # where each action came from is forgotten after this many days

    [sip]
    max_bag_info_bytes = 1048576  # a SIP whose bag-info.txt is larger is refused (default 1 MiB)
    max_tag_line_bytes = 65536    # ... or whose bagit.txt, bag-info, manifest or fetch.txt has a longer line

    [web]
    admin = true                  # the read-only Django admin for administrators at /admin/ (default false: 404)
    allowed_hosts = ["depot.example.nl"]   # the host names the web answers to (default: this machine only)
    secret_key = "..."            # default: <data-dir>/web-secret-key, made once, readable by its owner only
    https = true                  # served over https (behind a proxy that says so): secure cookies (default false)
    session_idle_seconds = 1800   # a session ends after this long without a request (default 30 minutes)
    session_max_seconds = 43200   # ... and this long after signing in at most (default 12 hours)
    sign_in_failures = 5          # failed sign-ins of one name from one address before it is locked out
    lockout_seconds = 900         # ... for this long

    [transfers]                   # SIPs uploaded through the web, in chunks (resumable)
    max_bytes = 21474836480       # an upload larger than this is refused (default 20 GiB)
    expire_hours = 24             # an upload not added to for this long is removed (default 24)

    [web.oidc]                    # single sign-on through the organisation's OpenID Connect provider
    discovery_url = "https://login.example.nl/realms/gemeente/.well-known/openid-configuration"
    # or the endpoints: authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri
    client_id = "edepot"
    secrets = "/etc/edepot/oidc.toml"  # TOML with client_secret; else $EDEPOT_OIDC_CLIENT_SECRET
    name_claim = "preferred_username"  # the claim naming the person in the directory
    groups_claim = "groups"
    label = "Gemeente Voorbeeldstad"   # shown on the sign-in button
    [web.oidc.groups]             # a group of the provider: the roles its members hold here
    "edepot-archivarissen" = ["archivist"]
    "gm0363-informatiebeheer" = ["records-manager@gm0363"]
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from kernel.errors import InputError

DEFAULT_TIMEZONE = "Europe/Amsterdam"
DEFAULT_ARCHIEFVORMER = "Onbekende archiefvormer"
DEFAULT_IDENTIFICATIE_BRON = "edepot"
DEFAULT_MAX_BAG_INFO_BYTES = 1 << 20
DEFAULT_MAX_TAG_LINE_BYTES = 64 << 10
_LOCATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, timezone-aware, to the second (tests inject a fixed one)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Organisation:
    """The archiefvormer whose records these are, and the source of the identifiers it gives."""

    archiefvormer: str = DEFAULT_ARCHIEFVORMER
    archiefvormer_id: str | None = None
    identificatie_bron: str = DEFAULT_IDENTIFICATIE_BRON


@dataclass(frozen=True)
class TagFileLimits:
    """How large the tag files of a SIP may be before it is refused unread ([sip] in edepot.toml).

    The BagIt reader's time grows with the square of a line's length, so these are checked first."""

    max_bag_info_bytes: int = DEFAULT_MAX_BAG_INFO_BYTES
    max_tag_line_bytes: int = DEFAULT_MAX_TAG_LINE_BYTES


@dataclass(frozen=True)
class LocationSetting:
    """A storage location's identity and name as the configuration gives them ([storage] locations); either may
    be left out (the location then keeps the identity it was given once, preservation/storage.py)."""

    root: Path
    id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ObjectStoreSetting:
    """An S3 bucket (or a prefix in one) that keeps AIPs ([storage] locations with kind = "s3"). Its credentials
    are in neither: they come from the AWS environment variables, else from the `secrets` file (TOML with
    `access_key_id` and `secret_access_key`)."""

    id: str
    bucket: str
    name: str | None = None
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    secrets: Path | None = None


@dataclass(frozen=True)
class TransferSettings:
    """SIPs uploaded through the web ([transfers] in edepot.toml): the largest accepted, and how long an upload
    nobody adds to is kept."""

    max_bytes: int = 20 * 1024**3
    expire_hours: int = 24


@dataclass(frozen=True)
class WebSettings:
    """What the web application may show and to whom it answers ([web] in edepot.toml)."""

    admin: bool = False  # the read-only admin for administrators; off: /admin/ does not exist
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    secret_key: str | None = None  # None: the data directory's own key file (edepot.web.secret)
    https: bool = False  # served over https: cookies only travel encrypted
    session_idle_seconds: int = 30 * 60
    session_max_seconds: int = 12 * 60 * 60
    sign_in_failures: int = 5
    lockout_seconds: int = 15 * 60
    oidc: OidcSettings | None = None  # [web.oidc]; None: no single sign-on


@dataclass(frozen=True)
class OidcSettings:
    """Single sign-on through an OpenID Connect provider ([web.oidc]): where it is (its discovery document, or
    its endpoints), this depot's client there, and the roles its groups hold (group -> ROLE or ROLE@ORGANISATION).
    The client secret is in neither: $EDEPOT_OIDC_CLIENT_SECRET, else the `secrets` file (TOML, client_secret)."""

    client_id: str
    groups: dict[str, tuple[str, ...]]
    discovery_url: str | None = None
    endpoints: dict[str, str] = field(default_factory=dict)  # authorization_endpoint, token_endpoint, ...
    secrets: Path | None = None
    name_claim: str = "preferred_username"
    groups_claim: str = "groups"
    label: str = "OpenID Connect"
    scopes: str = "openid profile email"

    def client_secret(self) -> str:
        """The client secret: $EDEPOT_OIDC_CLIENT_SECRET, else the secrets file's client_secret; InputError when
        neither gives one."""
        if os.environ.get("EDEPOT_OIDC_CLIENT_SECRET"):
            return os.environ["EDEPOT_OIDC_CLIENT_SECRET"]
        if self.secrets is not None:
            try:
                held = tomllib.loads(self.secrets.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise InputError(f"[web.oidc] its secrets file {self.secrets} cannot be read: {exc}") from None
            if isinstance(held.get("client_secret"), str) and held["client_secret"]:
                return str(held["client_secret"])
        raise InputError("[web.oidc] has no client secret",
                         hint="set EDEPOT_OIDC_CLIENT_SECRET, or name a secrets file holding client_secret")


@dataclass(frozen=True)
class Config:
    """Everything a command needs to know about its installation."""

    data_dir: Path
    storage_locations: tuple[Path, ...]  # the folders; the buckets are in `object_stores`
    catalogue_url: str
    schema_dir: Path | None
    organisation: Organisation = field(default_factory=Organisation)
    clock: Clock = utc_now
    scan_database: Path | None = None  # [scan] database; None: a running clamd, else clamscan's own
    scan_required: bool = True  # [scan] required: refuse a SIP that could not be scanned (no signatures)
    siegfried: bool = False  # [identify] siegfried: second opinion on every identification
    tag_file_limits: TagFileLimits = field(default_factory=TagFileLimits)  # [sip]
    operator: str | None = None  # [operator] name: who acts when a command names nobody (a scheduler's account)
    location_settings: tuple[LocationSetting, ...] = ()  # the locations configured with an id or a name
    object_stores: tuple[ObjectStoreSetting, ...] = ()  # [storage] locations of kind "s3"

    def location_setting(self, root: Path) -> LocationSetting:
        """What the configuration says of the location at `root` (nothing but its root when it gives no id)."""
        return next((s for s in self.location_settings if s.root == root), LocationSetting(root))
    web: WebSettings = field(default_factory=WebSettings)  # [web]
    transfers: TransferSettings = field(default_factory=TransferSettings)  # [transfers]
    audit_address_days: int = 365  # [audit] keep_addresses_days: where an action came from is kept this long
    job_lease_seconds: int = 300  # [jobs] lease_seconds: a worker silent this long loses its job to another

    @property
    def staging_dir(self) -> Path:
        """Where work in progress lives; on the same file system as the data, so renames are atomic."""
        return self.data_dir / "staging"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def locks_dir(self) -> Path:
        """Where running commands hold their locks and claims (kernel/locks.py)."""
        return self.data_dir / "locks"


def default_schema_dir() -> Path | None:
    """`$EDEPOT_SCHEMA_DIR`, else the official schemas beside a checkout (`../shared/standards`), else None."""
    env = os.environ.get("EDEPOT_SCHEMA_DIR")
    if env:
        return Path(env)
    beside_checkout = Path(__file__).resolve().parent.parent.parent / "shared" / "standards"
    return beside_checkout if beside_checkout.is_dir() else None


def resolve_data_dir(given: str | os.PathLike[str] | None) -> Path:
    """The data directory from the flag, the environment, or the default, made absolute."""
    raw = given or os.environ.get("EDEPOT_DATA") or "edepot-data"
    return Path(raw).expanduser().resolve()


def load_config(data_dir: str | os.PathLike[str] | None = None, clock: Clock = utc_now) -> Config:
    """Read the configuration for a data directory; a broken `edepot.toml` is an InputError."""
    root = resolve_data_dir(data_dir)
    settings: dict = {}
    config_file = root / "edepot.toml"
    if config_file.is_file():
        try:
            settings = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{config_file}: not valid TOML: {exc}") from None
    org = settings.get("organisation", {})
    entries = settings.get("storage", {}).get("locations") or [
        root / "storage" / "location-1",
        root / "storage" / "location-2",
    ]
    object_stores = _object_stores(entries, config_file)
    locations = _location_settings([e for e in entries if not (isinstance(e, dict) and e.get("kind", "folder") != "folder")],
                                   config_file)
    catalogue_url = settings.get("catalogue", {}).get("url") or f"sqlite:///{root / 'catalogue.sqlite'}"
    schema_dir = settings.get("schemas", {}).get("dir")
    scan = settings.get("scan", {})
    scan_database = scan.get("database") or os.environ.get("EDEPOT_SCAN_DATABASE")
    return Config(
        data_dir=root,
        storage_locations=tuple(location.root for location in locations),
        catalogue_url=catalogue_url,
        schema_dir=Path(schema_dir) if schema_dir else default_schema_dir(),
        organisation=Organisation(
            archiefvormer=org.get("archiefvormer", DEFAULT_ARCHIEFVORMER),
            archiefvormer_id=org.get("archiefvormer_id"),
            identificatie_bron=org.get("identificatie_bron", DEFAULT_IDENTIFICATIE_BRON),
        ),
        clock=clock,
        scan_database=Path(scan_database).expanduser() if scan_database else None,
        scan_required=bool(scan.get("required", True)),
        siegfried=bool(settings.get("identify", {}).get("siegfried", False)),
        tag_file_limits=_tag_file_limits(settings.get("sip", {}), config_file),
        operator=settings.get("operator", {}).get("name") or None,
        location_settings=tuple(location for location in locations if location.id or location.name),
        object_stores=object_stores,
        web=_web_settings(settings.get("web", {}), config_file),
        transfers=TransferSettings(**{key: _positive(settings.get("transfers", {}), key,
                                                     getattr(TransferSettings, key), config_file)
                                      for key in ("max_bytes", "expire_hours")}),
        audit_address_days=_positive(settings.get("audit", {}), "keep_addresses_days", 365, config_file),
        job_lease_seconds=_positive(settings.get("jobs", {}), "lease_seconds", 300, config_file),
    )


def _location_settings(entries: object, config_file: Path) -> list[LocationSetting]:
    """[storage] locations: each a folder, or a table with `root` and an optional `id` and `name`."""
    if not isinstance(entries, list):
        raise InputError(f"{config_file}: [storage] locations must be a list of folders")
    settings = []
    for entry in entries:
        if isinstance(entry, (str, Path)):
            entry = {"root": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("root"), (str, Path)) or not all(
                isinstance(entry.get(key), (str, type(None))) for key in ("id", "name")):
            raise InputError(f"{config_file}: [storage] locations: {entry!r} is neither a folder nor a table with "
                             "a root (and an optional id and name)")
        identity = (entry.get("id") or "").strip() or None
        if identity is not None and not _LOCATION_ID.fullmatch(identity):
            raise InputError(f"{config_file}: [storage] location id {identity!r}: use letters, digits, '.', '_' "
                             "and '-' only (at most 64)")
        settings.append(LocationSetting(Path(entry["root"]).expanduser().resolve(), identity,
                                        (entry.get("name") or "").strip() or None))
    return settings


def _object_stores(entries: object, config_file: Path) -> tuple[ObjectStoreSetting, ...]:
    """[storage] locations of kind "s3": a table with an `id` and a `bucket`, and optionally a `name`, `prefix`,
    `endpoint_url`, `region` and `secrets` (a file), each text; else InputError."""
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("kind", "folder") == "folder":
            continue
        keys = ("id", "bucket", "name", "prefix", "endpoint_url", "region", "secrets")
        if entry["kind"] != "s3" or set(entry) - {"kind", *keys} or not all(
                isinstance(entry.get(key), (str, type(None))) for key in keys):
            raise InputError(f"{config_file}: [storage] locations: {entry!r}: the kinds are \"folder\" and \"s3\", "
                             f"the latter with text for {', '.join(keys)}")
        identity, bucket = (entry.get("id") or "").strip(), (entry.get("bucket") or "").strip()
        if not _LOCATION_ID.fullmatch(identity) or not bucket:
            raise InputError(f"{config_file}: [storage] an s3 location needs a bucket and an id of letters, digits, "
                             f"'.', '_' and '-' (at most 64): {entry!r}")
        secrets = entry.get("secrets")
        found.append(ObjectStoreSetting(identity, bucket, (entry.get("name") or "").strip() or None,
                                        (entry.get("prefix") or "").strip("/"), entry.get("endpoint_url") or None,
                                        entry.get("region") or None,
                                        Path(secrets).expanduser().resolve() if secrets else None))
    return tuple(found)


def _web_settings(web: dict[str, object], config_file: Path) -> WebSettings:
    """[web] admin and https (true or false), allowed_hosts (a list of host names), secret_key (text), the
    sessions' and sign-in throttling's positive numbers, [web.oidc]; else InputError."""
    admin = web.get("admin", False)
    if not isinstance(admin, bool):
        raise InputError(f"{config_file}: [web] admin must be true or false, not {admin!r}")
    hosts = web.get("allowed_hosts", list(DEFAULT_ALLOWED_HOSTS))
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise InputError(f"{config_file}: [web] allowed_hosts must be a list of host names, not {hosts!r}")
    secret_key = web.get("secret_key")
    if secret_key is not None and (not isinstance(secret_key, str) or len(secret_key) < 50):
        raise InputError(f"{config_file}: [web] secret_key must be text of at least 50 characters")
    https = web.get("https", False)
    if not isinstance(https, bool):
        raise InputError(f"{config_file}: [web] https must be true or false, not {https!r}")
    numbers = {key: _positive(web, key, getattr(WebSettings, key), config_file)
               for key in ("session_idle_seconds", "session_max_seconds", "sign_in_failures", "lockout_seconds")}
    oidc = web.get("oidc")
    return WebSettings(admin=admin, allowed_hosts=tuple(hosts), secret_key=secret_key, https=https, **numbers,
                       oidc=None if oidc is None else _oidc_settings(oidc, config_file))


OIDC_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


def _oidc_settings(oidc: object, config_file: Path) -> OidcSettings:
    """[web.oidc]: a client_id, a discovery_url or the four endpoints, groups mapping each group to a list of
    ROLE or ROLE@ORGANISATION, and optional text for secrets, name_claim, groups_claim, label, scopes."""
    where = f"{config_file}: [web.oidc]"
    texts = ("client_id", "discovery_url", "secrets", "name_claim", "groups_claim", "label", "scopes",
             *OIDC_ENDPOINTS)
    if not isinstance(oidc, dict) or set(oidc) - {*texts, "groups"} or not all(
            isinstance(oidc.get(key), (str, type(None))) for key in texts):
        raise InputError(f"{where} takes text for {', '.join(texts)} and a table of groups")
    endpoints = {key: oidc[key] for key in OIDC_ENDPOINTS if oidc.get(key)}
    if not oidc.get("client_id") or not (oidc.get("discovery_url") or len(endpoints) == len(OIDC_ENDPOINTS)):
        raise InputError(f"{where} needs a client_id, and a discovery_url or all of {', '.join(OIDC_ENDPOINTS)}")
    groups = oidc.get("groups", {})
    if not isinstance(groups, dict) or not groups or not all(
            isinstance(roles, list) and roles and all(isinstance(r, str) and r for r in roles)
            for roles in groups.values()):
        raise InputError(f"{where} needs groups: each group of the provider with a list of roles "
                         "(ROLE or ROLE@ORGANISATION)")
    optional = {key: oidc[key] for key in ("name_claim", "groups_claim", "label", "scopes") if oidc.get(key)}
    return OidcSettings(client_id=oidc["client_id"], groups={g: tuple(r) for g, r in groups.items()},
                        discovery_url=oidc.get("discovery_url") or None, endpoints=endpoints,
                        secrets=Path(oidc["secrets"]).expanduser().resolve() if oidc.get("secrets") else None,
                        **optional)


def _tag_file_limits(sip: dict[str, object], config_file: Path) -> TagFileLimits:
    """[sip] max_bag_info_bytes and max_tag_line_bytes, each a positive whole number, else InputError."""
    values: dict[str, int] = {}
    for key, default in (("max_bag_info_bytes", DEFAULT_MAX_BAG_INFO_BYTES),
                         ("max_tag_line_bytes", DEFAULT_MAX_TAG_LINE_BYTES)):
        value = sip.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{config_file}: [sip] {key} must be a positive number of bytes, not {value!r}")
        values[key] = value
    return TagFileLimits(**values)


def _positive(section: dict, key: str, default: int, config_file: Path) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"{config_file}: {key} must be a positive whole number, not {value!r}")
    return value
