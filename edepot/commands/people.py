"""`edepot organisation add|list`, `edepot user add|list|grant|disable|token|password|reset-second-factor` and `edepot audit`."""
from __future__ import annotations

import argparse
import secrets
import sys

from edepot.commands import open_depot
from edepot.commands.search import iso_date
from edepot.output import Verbs, emit
from kernel.config import Config
from kernel.errors import InputError

ROLE_SPEC = "ROLE or ROLE@ORGANISATION (without @: for every organisation the e-Depot serves)"


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    organisation = verbs.add_parser("organisation", help="the organisations the e-Depot serves").add_subparsers(
        metavar="ACTION", parser_class=type(common))
    p = organisation.add_parser("add", parents=[common], help="register an organisation (archiefvormer)")
    p.add_argument("organisation_id", metavar="ID", help="its identifier, e.g. the TOOI code gm0363")
    p.add_argument("--name", required=True, help='its name, e.g. "Gemeente Amsterdam"')
    p.set_defaults(handler=cmd_organisation_add)
    p = organisation.add_parser("assign", parents=[common],
                                help="give records ingested before organisations were registered their organisation")
    p.add_argument("--dry-run", action="store_true", help="list what would be assigned, change nothing")
    p.set_defaults(handler=cmd_organisation_assign)
    p = organisation.add_parser("list", parents=[common], help="list the organisations")
    p.set_defaults(handler=cmd_organisation_list)

    user = verbs.add_parser("user", help="people, their roles and personal tokens").add_subparsers(
        metavar="ACTION", parser_class=type(common))
    p = user.add_parser("add", parents=[common], help="register a person with roles; prints their first token")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", action="append", default=[], metavar="ROLE", help=f"{ROLE_SPEC}; repeatable")
    p.add_argument("--admin", action="store_true",
                   help="an administrator for every organisation (the first person must be one); a web password "
                        "is made and shown once unless --password-stdin gives one")
    p.add_argument("--password-stdin", action="store_true", help="read their web password from standard input")
    p.set_defaults(handler=cmd_user_add)
    p = user.add_parser("password", parents=[common],
                        help="set a person's web password (made and shown once unless --password-stdin gives one)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(handler=cmd_user_password)
    p = user.add_parser("grant", parents=[common], help="give a person one more role")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, metavar="ROLE", help=ROLE_SPEC)
    p.set_defaults(handler=cmd_user_grant)
    p = user.add_parser("disable", parents=[common], help="disable a person (their tokens stop working)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=cmd_user_disable)
    p = user.add_parser("token", parents=[common], help="issue a new personal token (shown once)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=cmd_user_token)
    p = user.add_parser("reset-second-factor", parents=[common],
                        help="remove a person's second factor (TOTP app): they enrol anew at their next sign-in")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=cmd_user_reset_second_factor)
    p = user.add_parser("list", parents=[common], help="list people and their roles")
    p.set_defaults(handler=cmd_user_list)

    p = verbs.add_parser("audit", parents=[common], help="the audit log: who did what, when, from where")
    p.add_argument("--person", help="only this person's actions")
    p.add_argument("--action", help="only actions starting with this, e.g. 'dip' or 'user add'")
    p.add_argument("--organisation", metavar="ID", help="only actions on this organisation's records")
    p.add_argument("--since", type=iso_date, help="from this day (YYYY-MM-DD)")
    p.add_argument("--until", type=iso_date, help="before this day (YYYY-MM-DD)")
    p.set_defaults(handler=cmd_audit)


def role_spec(value: str) -> tuple[str, str | None]:
    """ROLE or ROLE@ORGANISATION."""
    role, at, organisation = value.partition("@")
    if at and not organisation.strip():
        raise InputError(f"role {value!r} names no organisation after @", hint=ROLE_SPEC)
    return role.strip(), organisation.strip() if at else None


def cmd_organisation_add(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        organisation = depot.add_organisation(args.organisation_id, name=args.name)
    emit(args, organisation.to_dict(), f"organisation {organisation.organisation_id}: {organisation.name}")
    return 0


def cmd_organisation_assign(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        found = depot.assign_records(dry_run=args.dry_run)
    unmatched = [a for a in found if not a.organisation]
    emit(args, {"dry_run": args.dry_run, "assignments": [a.to_dict() for a in found]},
         "\n".join(f"{a.record_id}  {a.archiefvormer or '(geen archiefvormer)'}  → "
                   f"{a.organisation or 'no registered organisation: left unassigned'}" for a in found)
         + f"\n{len(found) - len(unmatched)} assigned, {len(unmatched)} left unassigned"
         + (" (dry run: nothing changed)" if args.dry_run else ""))
    return 0


def cmd_organisation_list(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        found = depot.organisations()
    emit(args, {"organisations": [o.to_dict() for o in found]},
         "\n".join(f"{o.organisation_id}  {o.name}" for o in found) or "no organisations registered")
    return 0


def _roles(person: object) -> str:
    grants = getattr(person, "roles", ())
    return ", ".join(g.role + (f"@{g.organisation}" if g.organisation else "") for g in grants)


def _password(args: argparse.Namespace, *, make: bool) -> tuple[str | None, bool]:
    """The web password: read from standard input with --password-stdin, else made here when `make` (then
    shown once), else None; and whether it was made here."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if make:
        return secrets.token_urlsafe(12), True
    return None, False


def cmd_user_add(args: argparse.Namespace, config: Config) -> int:
    roles = [role_spec(r) for r in args.role] + ([("administrator", None)] if args.admin else [])
    if not roles:
        raise InputError("a person needs a role: --role ROLE[@ORGANISATION], or --admin")
    password, made = _password(args, make=args.admin)
    with open_depot(args, config) as depot:
        person, token = depot.add_person(args.name, roles=roles, password=password)
    shown = {**person.to_dict(), "token": token, **({"password": password} if made else {})}
    text = f"{person.name}: {_roles(person)}\npersonal token (shown once; give it in EDEPOT_TOKEN): {token}"
    if made:
        text += f"\nweb password (shown once; sign in with it at edepot serve): {password}"
    emit(args, shown, text)
    return 0


def cmd_user_password(args: argparse.Namespace, config: Config) -> int:
    password, made = _password(args, make=True)
    assert password is not None
    with open_depot(args, config) as depot:
        depot.set_password(args.name, password)
    emit(args, {"name": args.name, **({"password": password} if made else {})},
         f"web password (shown once): {password}" if made else f"the web password of {args.name} is set")
    return 0


def cmd_user_grant(args: argparse.Namespace, config: Config) -> int:
    role, organisation = role_spec(args.role)
    with open_depot(args, config) as depot:
        person = depot.grant_role(args.name, role=role, organisation=organisation)
    emit(args, person.to_dict(), f"{person.name}: {_roles(person)}")
    return 0


def cmd_user_disable(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        person = depot.disable_person(args.name)
    emit(args, person.to_dict(), f"{person.name} is disabled")
    return 0


def cmd_user_token(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        token = depot.issue_token(args.name)
    emit(args, {"name": args.name, "token": token}, f"personal token (shown once; give it in EDEPOT_TOKEN): {token}")
    return 0


def cmd_user_reset_second_factor(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        person = depot.reset_second_factor(args.name)
    emit(args, person.to_dict(), f"{person.name} enrols a new second factor at their next sign-in")
    return 0


def cmd_user_list(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        found = depot.people()
    emit(args, {"people": [p.to_dict() for p in found]},
         "\n".join(f"{p.name}{'' if p.active else ' (disabled)'}: {_roles(p)}" for p in found)
         or "nobody is registered: the depot acts for whoever is named")
    return 0


def cmd_audit(args: argparse.Namespace, config: Config) -> int:
    from datetime import datetime, time, timezone

    def moment(day: object) -> datetime | None:
        return datetime.combine(day, time(), timezone.utc) if day else None  # type: ignore[arg-type]

    with open_depot(args, config) as depot:
        entries = depot.audit_log(person=args.person, action=args.action, organisation=args.organisation,
                                  since=moment(args.since), until=moment(args.until))
    emit(args, {"entries": [e.to_dict() for e in entries]},
         "\n".join(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.person or '-'}  {e.action}  {e.target}  "
                   f"{e.organisation or '-'}  {e.outcome}{'  ' + e.detail if e.detail else ''}"
                   f"  [{e.address or 'no address'}]" for e in entries) or "the audit log is empty")
    return 0
