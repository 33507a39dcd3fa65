"""The ``livegate`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from verification.errors import DomainError


class UserError(click.ClickException):
    """Bad input from the person at the terminal: one line, exit 2."""

    exit_code = 2


def _settings(**overrides):
    from .config import ConfigError, load_settings

    try:
        return load_settings(overrides={k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def _services(ensure_schema: bool = True, **overrides):
    from verification.keys import ensure_signing_key
    from verification.store import has_schema, upgrade

    from . import build_services

    svc = build_services(_settings(**overrides))
    if ensure_schema:
        if not has_schema(svc.db):
            upgrade(svc.db)
        ensure_signing_key(svc)
    return svc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """LiveGate: identity verification and age gating for live-streaming platforms."""


@cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database named by LIVEGATE_DATABASE_URL."""
    from verification.keys import ensure_signing_key
    from verification.store import current_revision, upgrade

    from . import build_services

    svc = build_services(_settings())
    upgrade(svc.db)
    ensure_signing_key(svc)
    click.echo(f"database ready at revision {current_revision(svc.db)}: {_safe_url(svc.settings.database_url)}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Run the gateway with gunicorn."""
    from gunicorn.app.base import BaseApplication

    svc = _services()
    svc.db.dispose()

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", "-")

        def load(self):
            from . import create_app

            return create_app()

    click.echo(f"LiveGate listening on http://{host}:{port}  (database: {_safe_url(svc.settings.database_url)}, "
               f"SMS: {svc.settings.sms_backend})", err=True)
    _App().run()


@cli.command()
@click.option("--document", "document", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the document's front (portrait side)")
@click.option("--document-back", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--selfie", "selfies", required=True, multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="a selfie frame; repeat for several frames, in challenge order")
@click.option("--name", required=True, help="the name the user declared")
@click.option("--document-number", required=True)
@click.option("--document-type", default="cn_resident_id", show_default=True,
              type=click.Choice(["cn_resident_id", "passport"]))
@click.option("--role", default="viewer", show_default=True, type=click.Choice(["viewer", "anchor", "merchant"]))
@click.option("--subject", help="platform user id (default: derived from the document number)")
@click.option("--challenge", help="the actions the frames show, comma-separated (blink,turn_left,turn_right)")
@click.option("--liveness", type=click.Choice(["required", "off"]), help="override LIVEGATE_LIVENESS")
def verify(document, document_back, selfies, name, document_number, document_type, role, subject, challenge,
           liveness) -> None:
    """Run the whole automatic verification on local files and print the decision as JSON."""
    from verification import access, cases
    from verification.idnumber import normalize

    def read(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None

    front = read(document)
    back = read(document_back) if document_back else None
    frames = [read(p) for p in selfies]
    actions = [a.strip() for a in challenge.split(",")] if challenge else None
    if actions and any(a not in cases.CHALLENGE_ACTIONS for a in actions):
        raise UserError(f"--challenge takes actions among {', '.join(cases.CHALLENGE_ACTIONS)}")
    svc = _services(liveness=liveness)
    for label, data in [("--document", front), ("--document-back", back)] + [("--selfie", f) for f in frames]:
        if data is not None:
            try:
                cases.decode_upload(svc, data)
            except DomainError as exc:
                raise UserError(f"{label}: {exc.message}") from None
    if not subject:
        subject = "cli-" + svc.cipher.keyed_hash(normalize(document_number), "cli_subject")[:16]
    with svc.db.uow() as session:
        case, _ = cases.create_case(svc, session, subject_id=subject, role=role, declared_name=name,
                                    document_type=document_type, document_number=document_number, actor="cli")
        if actions:
            case.challenge = actions
        cases.attach_document(svc, session, case.id, front, back)
        cases.attach_selfie(svc, session, case.id, frames)
        session.commit()
        case_id = case.id
    case = cases.submit_case(svc, case_id, actor="cli")
    with svc.db.uow() as session:
        case = cases.get_case(session, case_id)
        document_fields = json.loads(svc.cipher.decrypt_text(case.document_fields_enc, "document_fields"))
        result = {
            "case_id": case.id,
            "decision": case.decision,
            "reasons": case.reasons,
            "checks": [
                {"name": c.name, "verdict": c.verdict, "reason": c.reason,
                 "score": None if c.score is None else round(c.score, 4), "threshold": c.threshold,
                 **({"hint": c.details["hint"]} if (c.details or {}).get("hint") else {})}
                for c in case.checks
            ],
            "age": _age(case),
            "adult": case.adult,
            "level": case.level,
            "document": document_fields,
        }
        if case.decision == "approved":
            token, expires = access.issue_token(svc, session, subject, "tipping" if role == "viewer"
                                                else "broadcasting")
            result["token"] = token
            result["token_expires_at"] = expires.isoformat().replace("+00:00", "Z")
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _age(case) -> int | None:
    from verification.age import age_on, local_today

    return age_on(case.birth_date, local_today()) if case.birth_date else None


@cli.command("create-client")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="cases, tokens, tips, anchors, broadcasts, review (repeat)")
def create_client(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API client and print its key (shown once)."""
    from verification.clients import create_client as create

    svc = _services()
    flat = [s for scope in scopes for s in scope.replace(",", " ").split()]
    with svc.db.uow() as session:
        key = create(svc, session, name, flat)
        session.commit()
    click.echo(key)


@cli.command("rotate-keys")
def rotate_keys() -> None:
    """Add a new signing key; old public keys stay published until their tokens expire."""
    from verification.keys import rotate_keys as rotate

    svc = _services()
    with svc.db.uow() as session:
        kid = rotate(svc, session, actor="cli")
        session.commit()
    click.echo(f"new signing key {kid}")


@cli.group()
def review() -> None:
    """The manual review queue (the browser UI is under /review/)."""


@review.command("list")
@click.option("--limit", default=50, type=click.IntRange(1, 1000))
def review_list(limit: int) -> None:
    """Cases waiting for a reviewer, oldest first, as JSON lines."""
    from verification import cases

    svc = _services()
    with svc.db.uow() as session:
        rows, total = cases.review_queue(session, limit)
        for case in rows:
            view = cases.case_view(svc, case)
            click.echo(json.dumps({k: view[k] for k in ("id", "subject_id", "role", "reasons", "created_at",
                                                        "document_number")}, ensure_ascii=False))
    click.echo(f"{total} case(s) in review", err=True)


@review.command("decide")
@click.argument("case_id")
@click.option("--approve", "decision", flag_value="approved")
@click.option("--reject", "decision", flag_value="rejected")
@click.option("--reason", required=True)
@click.option("--note", default="")
@click.option("--reviewer", required=True, help="the supervisor's login, recorded in the audit trail")
def review_decide(case_id: str, decision: str | None, reason: str, note: str, reviewer: str) -> None:
    """Approve or reject a case in review (a supervisor's decision)."""
    from verification import cases

    if decision is None:
        raise UserError("say --approve or --reject")
    svc = _services()
    with svc.db.uow() as session:
        case = cases.decide_review(svc, session, case_id, reviewer=reviewer, role="supervisor",
                                   decision=decision, reason=reason, note=note)
        session.commit()
        click.echo(f"case {case.id}: {case.state}")


@cli.command()
@click.option("--now", "now_iso", help="act as if it were this ISO time (default: now)")
def purge(now_iso: str | None) -> None:
    """Erase uploaded images older than LIVEGATE_IMAGE_RETENTION_DAYS (decisions and audit stay)."""
    from verification.retention import purge_images

    svc = _services()
    now = _parse_now(now_iso) if now_iso else None
    total_cases = total_images = 0
    while True:
        with svc.db.uow() as session:
            report = purge_images(svc, session, now)
            session.commit()
        total_cases += report.cases
        total_images += report.images
        if report.cases == 0:
            break
    click.echo(f"purged {total_images} image(s) of {total_cases} case(s)")


def _parse_now(value: str):
    from datetime import datetime, timezone

    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--now: not an ISO date-time: {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


@cli.command("create-reviewer")
@click.argument("login")
@click.option("--role", required=True, type=click.Choice(["reviewer", "supervisor", "admin"]))
@click.option("--subject", help="the reviewer's own platform account id (they may not decide its cases)")
def create_reviewer(login: str, role: str, subject: str | None) -> None:
    """Create a reviewer account and print its one-time password (changed at first login)."""
    from verification.reviewers import create_reviewer as create

    svc = _services()
    with svc.db.uow() as session:
        reviewer, password = create(svc, session, login, role, subject, actor="cli")
        session.commit()
    click.echo(f"reviewer {reviewer.login} ({reviewer.role}) created; one-time password:", err=True)
    click.echo(password)


@cli.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 naming the first broken entry."""
    from sqlalchemy import select

    from verification.audit import verify_chain
    from verification.models import AuditEntry

    svc = _services()
    with svc.db.uow() as session:
        report = verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000))
    if report.broken_at is not None:
        click.echo(f"audit chain broken at entry {report.broken_at}: {report.problem}")
        sys.exit(1)
    click.echo(f"audit chain intact: {report.entries} entries")



# --- tips: settlement, SMS outbox, ledger (issue 6) -------------------------------------------

@cli.command()
@click.option("--now", "now_text", help="settle as of this ISO time (default: now), e.g. 2026-07-01T00:00:00Z")
def settle(now_text: str | None) -> None:
    """Release the tip holds whose settlement time has come to the anchors' payable accounts."""
    from datetime import datetime, timezone

    from verification.ledger import settle_due

    now = datetime.now(timezone.utc)
    if now_text:
        try:
            now = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        except ValueError:
            raise UserError(f"--now: not an ISO date and time: {now_text!r}") from None
        if now.tzinfo is None:
            raise UserError("--now needs a time zone, e.g. 2026-07-01T00:00:00Z or +08:00")
    svc = _services()
    try:
        report = settle_due(svc, now.astimezone(timezone.utc))
    finally:
        svc.db.dispose()
    click.echo(f"settled {report.holds} hold(s), {report.fen} fen, as of {now.isoformat()}")


@cli.command()
@click.option("--to", "to", help="only messages to this phone number (E.164)")
@click.option("--last", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def outbox(to: str | None, last: int, as_json: bool) -> None:
    """Print the SMS messages stored by the outbox backend, newest first."""
    from verification.sms import outbox_messages

    svc = _services()
    try:
        with svc.db.uow() as session:
            rows = outbox_messages(svc, session, to=to, last=last)
    finally:
        svc.db.dispose()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"{row['created_at']}  {row['to']}  [{row['status']}]  {row['body']}")
    if not rows and not as_json:
        click.echo("no messages in the outbox", err=True)


@cli.group()
def ledger() -> None:
    """The double-entry tip ledger."""


@ledger.command("check")
def ledger_check() -> None:
    """Prove the books balance; exit 1 naming the problems when they do not."""
    from verification.ledger import check

    svc = _services()
    try:
        with svc.db.uow() as session:
            report = check(session)
    finally:
        svc.db.dispose()
    if not report.balanced:
        for problem in report.problems:
            click.echo(f"ledger problem: {problem}")
        sys.exit(1)
    click.echo(f"ledger balanced: {report.transactions} transactions, {report.postings} postings; "
               f"held {report.held_fen} fen, payable {report.payable_fen} fen")


# --- face calibration (issue 4) ------------------------------------------------------------------

@cli.command()
@click.option("--faces", "faces_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="a folder with LABELS.tsv (file, identity, notes) and the photos it lists")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="write a PNG of the genuine and impostor distance distributions")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="also write every number as JSON")
def calibrate(faces_dir: Path, plot_path: Path | None, json_path: Path | None) -> None:
    """Measure face distances on a labelled folder; print FAR/FRR and recommended thresholds."""
    from verification import calibration
    from verification.adapters.face_dlib import DlibFaceEngine
    from verification.settings import DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT

    if not faces_dir.is_dir():
        raise UserError(f"{faces_dir} is not a folder")
    try:
        cal = calibration.calibrate(faces_dir, DlibFaceEngine())
    except calibration.CalibrationError as exc:
        raise UserError(str(exc)) from None
    click.echo(calibration.format_report(cal, current=(DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT)))
    if plot_path is not None:
        calibration.plot(cal, plot_path)
        click.echo(f"plot written to {plot_path}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(cal.summary(), indent=2) + "\n", encoding="utf-8")
        click.echo(f"numbers written to {json_path}")


@cli.group()
def report() -> None:
    """Reports to the regulator."""


@report.command("quarterly")
@click.option("--quarter", required=True, help="the calendar quarter, like 2026Q4 (in LIVEGATE_TIMEZONE)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def report_quarterly(quarter: str, fmt: str) -> None:
    """Live rooms, anchors, active auditors and their ratio for one quarter (warns above 1:50)."""
    from verification.reports import quarterly_report

    svc = _services()
    with svc.db.uow() as session:
        result = quarterly_report(svc, session, quarter)
    click.echo(result.to_csv() if fmt == "csv" else result.to_json(), nl=fmt != "csv")
    if result.warning:
        click.echo(f"livegate: warning: {result.warning}", err=True)


@cli.group()
def concerns() -> None:
    """The concern list (R11) and key monitoring (R18)."""


@concerns.command("scan")
@click.option("--now", "now_iso", help="act as if it were this ISO time (default: now)")
def concerns_scan(now_iso: str | None) -> None:
    """Run the monitoring rules over recent tips and record what they find."""
    from verification.concerns import scan

    svc = _services()
    now = _parse_now(now_iso) if now_iso else None
    with svc.db.uow() as session:
        rows = scan(svc, session, now)
        session.commit()
        for row in rows:
            click.echo(f"{row.list_name}: {row.target_type} {row.target_id}: {row.rule}")
    click.echo(f"{len(rows)} finding(s)", err=True)


@concerns.command("report")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="write to this file")
def concerns_report(fmt: str, output: Path | None) -> None:
    """The open concern and key-monitoring flags as a written report."""
    from verification.concerns import written_report

    svc = _services()
    with svc.db.uow() as session:
        text = written_report(svc, session, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors of the user's making are one line on stderr and exit 2."""
    try:
        cli.main(args=argv, prog_name="livegate", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("livegate: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        message = " ".join(exc.format_message().split())
        click.echo(f"livegate: error: {message}", err=True)
        sys.exit(2 if not isinstance(exc, UserError) else exc.exit_code)
    except DomainError as exc:
        click.echo(f"livegate: error: {exc.message}", err=True)
        sys.exit(2)
    sys.exit(0)


if __name__ == "__main__":
    main()
