"""Writes of the reports app: workforce returns (pre-fill, check, submit, correct, CSV
upload), reminders and chasing, the pool's Real Living Wage and benchmark figures, and
publishing a committee report (its figures are then stored and never change)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from flexpool.input import text_check
from notifications.services import Message, notifications_send_many
from pools.models import Pool, Role
from pools.services import audit_record
from providers.models import Provider, ProviderMember
from reports.definitions import definitions
from reports.models import (
    Benchmark,
    CommitteeReport,
    LivingWageRate,
    ReturnLine,
    ReturnReminder,
    WorkforceReturn,
)
from reports.quarters import Quarter, quarter_to_return
from reports.workforce import workforce_report

LINE_FIELDS = [
    ("headcount_start", "Staff at the start of the quarter"),
    ("posts", "Posts (headcount)"),
    ("filled", "Filled posts (headcount)"),
    ("posts_fte", "Posts (FTE)"),
    ("filled_fte", "Filled posts (FTE)"),
    ("starters", "Starters"),
    ("leavers", "Leavers"),
    ("leavers_to_care", "Leavers who went to another care provider"),
    ("zero_hours", "Staff on zero-hours contracts"),
    ("zero_hours_by_choice", "Of those, on zero hours by their own choice"),
    ("qualified_level2", "Holding a care qualification at level 2"),
    ("qualified_level3", "Holding a care qualification at level 3 or above"),
]
FTE_FIELDS = {"posts_fte", "filled_fte"}
# Carried over from the previous quarter (what stands at a quarter's end); the quarter's
# movements (starters, leavers, agency use, sickness) start empty.
STOCK_FIELDS = ["posts", "filled", "posts_fte", "filled_fte", "zero_hours",
                "zero_hours_by_choice", "qualified_level2", "qualified_level3"]  # fmt: skip
RETURN_FIELDS = [
    ("hours_worked", "Hours worked in care roles, agency included"),
    ("agency_hours", "Agency hours"),
    ("agency_spend_pence", "Agency spend (£)"),
    ("lowest_hourly_pay_pence", "Lowest hourly pay rate (£)"),
    ("sickness_days", "Sickness days"),
    ("zero_hours_evidence", "Evidence that zero hours is the worker's choice"),
]
MONEY_FIELDS = {"agency_spend_pence", "lowest_hourly_pay_pence"}
DECIMAL_FIELDS = {"hours_worked", "agency_hours", "sickness_days"}
MAX_COUNT = 100_000


@dataclass
class ReturnInput:
    """A return as entered: provider-wide values and one dict of counts per role id."""

    fields: dict[str, Any] = field(default_factory=dict)
    lines: dict[int, dict[str, Any]] = field(default_factory=dict)


# --- Parsing and the rules a return must keep ----------------------------------------------


def pounds_to_pence(text: Any) -> int | None:
    """'£1,234.56' → 123456; '' → None; ValueError for anything else (more than two
    decimal places, negative, not a number)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    raw = str(text).strip().replace("£", "").replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError("Enter an amount in pounds, like 1234.56.") from exc
    if not value.is_finite() or value < 0:
        raise ValueError("Enter an amount of £0 or more.")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("Enter pounds and pence: no more than two decimal places.")
    if value > Decimal("100000000"):
        raise ValueError("Enter an amount under £100,000,000.")
    return int(value * 100)


def _count(text: Any) -> int:
    raw = "0" if text is None or str(text).strip() == "" else str(text).strip().replace(",", "")
    if not raw.isdigit():
        raise ValueError("Enter a whole number of 0 or more.")
    value = int(raw)
    if value > MAX_COUNT:
        raise ValueError(f"Enter a number up to {MAX_COUNT:,}.")
    return value


def _decimal(text: Any, places: int = 2) -> Decimal:
    raw = "0" if text is None or str(text).strip() == "" else str(text).strip().replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError("Enter a number, like 37.5.") from exc
    if not value.is_finite() or value < 0 or value > Decimal("1000000000"):
        raise ValueError("Enter a number of 0 or more.")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"Enter no more than {places} decimal places.")
    return value


def return_parse(
    raw: dict[str, Any], roles: list[Role]
) -> tuple[ReturnInput, dict[str, list[str]]]:
    """Form or CSV values (names ``<field>`` and ``line-<role id>-<field>``) → typed input
    and field errors (the same names)."""
    errors: dict[str, list[str]] = {}
    out = ReturnInput()
    for name, _label in RETURN_FIELDS:
        value = raw.get(name, "")
        try:
            if name in MONEY_FIELDS:
                pence = pounds_to_pence(value)
                out.fields[name] = pence if name == "lowest_hourly_pay_pence" else (pence or 0)
            elif name in DECIMAL_FIELDS:
                out.fields[name] = _decimal(value, 1 if name == "sickness_days" else 2)
            else:
                choice = str(value or "").strip()
                if choice not in WorkforceReturn.Evidence.values:
                    raise ValueError("Choose one of the listed kinds of evidence.")
                out.fields[name] = choice
        except ValueError as exc:
            errors[name] = [str(exc)]
    for role in roles:
        line: dict[str, Any] = {}
        for name, _label in LINE_FIELDS:
            key = f"line-{role.pk}-{name}"
            try:
                line[name] = _decimal(raw.get(key)) if name in FTE_FIELDS else _count(raw.get(key))
            except ValueError as exc:
                errors[key] = [str(exc)]
        out.lines[role.pk] = line
    return out, errors


def return_check(data: ReturnInput) -> dict[str, list[str]]:
    """The rules every door (form, CSV, correction) applies: field name → messages."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for role_id, line in data.lines.items():
        p = f"line-{role_id}-"
        if line["filled"] > line["posts"]:
            add(p + "filled", "Filled posts must not be more than posts.")
        if line["filled_fte"] > line["posts_fte"]:
            add(p + "filled_fte", "Filled FTE must not be more than posts FTE.")
        if line["leavers"] > line["headcount_start"] + line["starters"]:
            add(p + "leavers", "Leavers must not be more than staff at the start plus starters.")
        if line["leavers_to_care"] > line["leavers"]:
            add(p + "leavers_to_care", "Must not be more than leavers.")
        if line["zero_hours"] > line["filled"]:
            add(p + "zero_hours", "Staff on zero hours must not be more than filled posts.")
        if line["zero_hours_by_choice"] > line["zero_hours"]:
            add(p + "zero_hours_by_choice", "Must not be more than staff on zero hours.")
        if line["qualified_level2"] + line["qualified_level3"] > line["filled"]:
            add(p + "qualified_level3", "Qualified staff must not be more than filled posts.")
    f = data.fields
    if f.get("agency_hours", 0) > f.get("hours_worked", 0):
        add("agency_hours", "Agency hours must not be more than all hours worked.")
    by_choice = sum(line["zero_hours_by_choice"] for line in data.lines.values())
    if by_choice and not f.get("zero_hours_evidence"):
        add("zero_hours_evidence", "Say what shows that zero hours is the workers' choice.")
    if not any(line["posts"] for line in data.lines.values()):
        add("__all__", "Enter the posts of at least one role.")
    return errors


def return_roles() -> list[Role]:
    return list(Role.objects.order_by("name"))


# --- Returns ------------------------------------------------------------------------------


def return_prefill(*, provider: Provider, quarter: Quarter) -> WorkforceReturn:
    """The provider's return for ``quarter``; a new one is a draft pre-filled from the
    previous quarter's (stock figures carried over, staff at the start = filled posts then)."""
    existing = WorkforceReturn.objects.filter(provider=provider, quarter=str(quarter)).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        draft, created = WorkforceReturn.objects.get_or_create(
            provider=provider, quarter=str(quarter), defaults={"pool_id": provider.pool_id}
        )
        if not created:
            return draft
        before = (
            WorkforceReturn.objects.filter(provider=provider, quarter=str(quarter.previous()))
            .prefetch_related("lines")
            .first()
        )
        if before is not None:
            draft.hours_worked = before.hours_worked
            draft.lowest_hourly_pay_pence = before.lowest_hourly_pay_pence
            draft.zero_hours_evidence = before.zero_hours_evidence
            draft.save()
            ReturnLine.objects.bulk_create(
                ReturnLine(
                    workforce_return=draft,
                    role_id=x.role_id,
                    headcount_start=x.filled,
                    **{name: getattr(x, name) for name in STOCK_FIELDS},
                )
                for x in before.lines.all()
            )
        return draft


def return_values(*, workforce_return: WorkforceReturn) -> dict[str, Any]:
    """A return's stored values under the form's names (money back in pounds)."""
    values: dict[str, Any] = {}
    for name, _label in RETURN_FIELDS:
        value = getattr(workforce_return, name)
        if name in MONEY_FIELDS:
            value = "" if value is None else f"{Decimal(value) / 100:.2f}"
        values[name] = value
    for x in workforce_return.lines.all():
        for name, _label in LINE_FIELDS:
            values[f"line-{x.role_id}-{name}"] = getattr(x, name)
    return values


def _write(workforce_return: WorkforceReturn, data: ReturnInput) -> list[str]:
    """Store ``data``; returns the names of the values that changed."""
    before = return_values(workforce_return=workforce_return)
    for name, value in data.fields.items():
        setattr(workforce_return, name, value)
    workforce_return.save()
    workforce_return.lines.all().delete()
    ReturnLine.objects.bulk_create(
        ReturnLine(workforce_return=workforce_return, role_id=role_id, **line)
        for role_id, line in data.lines.items()
        if any(line.values())
    )
    after = return_values(workforce_return=workforce_return)
    return sorted(
        k for k in set(before) | set(after) if str(before.get(k, 0)) != str(after.get(k, 0))
    )


def return_save(
    *,
    workforce_return: WorkforceReturn,
    data: ReturnInput,
    by: User,
    submit: bool,
    reason: str = "",
) -> WorkforceReturn:
    """Save a draft, submit it, or correct a submitted return (a reason is then required
    and the audit log keeps it with the values that changed). Raises ValidationError with
    field errors and writes nothing when a rule fails."""
    errors = return_check(data) if submit or workforce_return.status == "submitted" else {}
    correcting = workforce_return.status == WorkforceReturn.Status.SUBMITTED
    if correcting and not reason.strip():
        errors.setdefault("reason", []).append("Say why the submitted return is corrected.")
    try:
        text_check(reason, multiline=True)
    except ValidationError as exc:
        errors.setdefault("reason", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = WorkforceReturn.objects.select_for_update().get(pk=workforce_return.pk)
        changed = _write(locked, data)
        if correcting:
            audit_record(
                pool=locked.pool,
                actor=by,
                action="return.corrected",
                target=locked,
                reason=f"{reason.strip()} (changed: {', '.join(changed) or 'nothing'})",
            )
        elif submit:
            locked.status = WorkforceReturn.Status.SUBMITTED
            locked.submitted_at = timezone.now()
            locked.submitted_by = by
            locked.save(update_fields=["status", "submitted_at", "submitted_by"])
            audit_record(pool=locked.pool, actor=by, action="return.submitted", target=locked)
    return locked


CSV_COLUMNS = ["row"] + [n for n, _ in LINE_FIELDS] + [n for n, _ in RETURN_FIELDS]


def return_csv_template(*, workforce_return: WorkforceReturn) -> str:
    """The CSV a provider can fill in: one row per role and one 'provider' row, holding
    the return's current values (money in pounds)."""
    values = return_values(workforce_return=workforce_return)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for role in return_roles():
        writer.writerow(
            [role.slug]
            + [values.get(f"line-{role.pk}-{n}", 0) for n, _ in LINE_FIELDS]
            + [""] * len(RETURN_FIELDS)
        )
    writer.writerow(
        ["provider"] + [""] * len(LINE_FIELDS) + [values.get(n, "") for n, _ in RETURN_FIELDS]
    )
    return out.getvalue()


@dataclass
class CsvResult:
    data: ReturnInput | None
    row_errors: list[str]


def return_csv_read(*, content: bytes) -> CsvResult:
    """Parse an uploaded return; every problem is reported with its row number."""
    roles = {r.slug: r for r in return_roles()}
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return CsvResult(None, ["The file is not UTF-8 text: save it as CSV UTF-8."])
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "row" not in (rows[0].keys() if rows else []):
        return CsvResult(None, ["The first line must be the template's column names."])
    raw: dict[str, Any] = {}
    problems: list[str] = []
    seen: set[str] = set()
    provider_row: int | None = None
    row_of: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        key = (row.get("row") or "").strip()
        if key in seen:
            problems.append(f"Row {number}: '{key}' appears twice.")
            continue
        seen.add(key)
        if key == "provider":
            provider_row = number
            for name, _label in RETURN_FIELDS:
                raw[name] = row.get(name, "")
                row_of[name] = number
        elif key in roles:
            for name, _label in LINE_FIELDS:
                raw[f"line-{roles[key].pk}-{name}"] = row.get(name, "")
                row_of[f"line-{roles[key].pk}-{name}"] = number
        else:
            problems.append(f"Row {number}: '{key}' is not a role (use the template's rows).")
    if provider_row is None:
        problems.append("The 'provider' row is missing.")
    data, errors = return_parse(raw, list(roles.values()))
    if not errors:
        errors = return_check(data)
    labels = dict(LINE_FIELDS) | dict(RETURN_FIELDS)
    for name, messages in errors.items():
        column = name.rsplit("-", 1)[-1]
        where = f"Row {row_of[name]}" if name in row_of else "The file"
        for message in messages:
            problems.append(f"{where}, {labels.get(column, column)}: {message}")
    return CsvResult(None if problems else data, problems)


# --- Reminders and chasing -------------------------------------------------------------------


def _members(provider_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for provider_id, user_id in ProviderMember.objects.filter(
        provider_id__in=provider_ids
    ).values_list("provider_id", "user_id"):
        out.setdefault(provider_id, []).append(user_id)
    return out


REMINDERS = [
    # kind, days from the quarter's end, subject
    ("open", 1, "Your quarterly workforce return for {label} is open"),
    ("due_soon", 21, "Your workforce return for {label} is due on {due}"),
    ("late", 29, "Your workforce return for {label} is late"),
]


def returns_send_reminders(*, today: date | None = None) -> int:
    """Beat (daily): remind every provider that has not submitted the last quarter's
    return, once per kind of reminder. Returns the messages sent."""
    today = today or timezone.localdate()
    quarter = quarter_to_return(today)
    days = (today - quarter.end).days
    messages: list[Message] = []
    submitted = set(
        WorkforceReturn.objects.filter(
            quarter=str(quarter), status=WorkforceReturn.Status.SUBMITTED
        ).values_list("provider_id", flat=True)
    )
    from reports.workforce import providers_expected

    with transaction.atomic():
        for kind, after, subject in REMINDERS:
            if days < after:
                continue
            done = set(
                ReturnReminder.objects.filter(quarter=str(quarter), kind=kind).values_list(
                    "provider_id", flat=True
                )
            )
            owed: list[int] = []
            for pool in Pool.objects.all():
                owed += [
                    pk
                    for pk in providers_expected(pool_ids=[pool.pk], quarter=quarter)
                    if pk not in submitted and pk not in done
                ]
            members = _members(owed)
            now = timezone.now()
            ReturnReminder.objects.bulk_create(
                [
                    ReturnReminder(provider_id=pk, quarter=str(quarter), kind=kind, sent_at=now)
                    for pk in owed
                ],
                ignore_conflicts=True,
            )
            text = subject.format(label=quarter.label, due=f"{quarter.due:%-d %B %Y}")
            for pk in owed:
                for user_id in members.get(pk, []):
                    messages.append(
                        Message(
                            user_id=user_id,
                            kind=f"return_{kind}",
                            subject=text,
                            body=f"{text}. It takes about ten minutes: figures from last "
                            "quarter are filled in for you.",
                            url=f"/provider/returns/{quarter}/",
                        )
                    )
        notifications_send_many(messages=messages)
    return len(messages)


def return_chase(*, provider: Provider, quarter: Quarter, by: User) -> int:
    """A coordinator chases a provider's return: a message to each member, noted on the
    return and in the audit log."""
    with transaction.atomic():
        workforce_return = return_prefill(provider=provider, quarter=quarter)
        if workforce_return.status == WorkforceReturn.Status.SUBMITTED:
            raise ValidationError("This provider has already returned.")
        workforce_return.chased_at = timezone.now()
        workforce_return.save(update_fields=["chased_at"])
        audit_record(pool=provider.pool, actor=by, action="return.chased", target=workforce_return)
        users = _members([provider.pk]).get(provider.pk, [])
        notifications_send_many(
            messages=[
                Message(
                    user_id=u,
                    kind="return_chase",
                    subject=f"The pool is waiting for your workforce return for {quarter.label}",
                    body=f"Please submit your return for {quarter.label}; it was due on "
                    f"{quarter.due:%-d %B %Y}.",
                    url=f"/provider/returns/{quarter}/",
                )
                for u in users
            ]
        )
    return len(users)


# --- Coordinator settings --------------------------------------------------------------------


def living_wage_set(*, pool: Pool, year: int, hourly_pence: int, by: User) -> LivingWageRate:
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": ["Enter a year between 2000 and 2100."]})
    if not 100 <= hourly_pence <= 10_000:
        raise ValidationError({"hourly": ["Enter an hourly rate between £1 and £100."]})
    with transaction.atomic():
        rate, _ = LivingWageRate.objects.update_or_create(
            pool=pool, year=year, defaults={"hourly_pence": hourly_pence}
        )
        audit_record(pool=pool, actor=by, action="living_wage.set", target=rate,
                     reason=f"{year}: £{Decimal(hourly_pence) / 100:.2f}")  # fmt: skip
    return rate


def benchmark_set(
    *, pool: Pool, quarter: Quarter, figure: str, area: str, value: Decimal, source: str, by: User
) -> Benchmark:
    errors: dict[str, list[str]] = {}
    known = definitions()
    if figure not in known or known[figure].compute is None:
        errors["figure"] = ["Choose one of the workforce figures."]
    if area not in Benchmark.Area.values:
        errors["area"] = ["Choose region or England."]
    if not source.strip():
        errors["source"] = ["Say where the figure comes from."]
    unit = known[figure].unit if figure in known else "ratio"
    if unit == "ratio" and not Decimal(0) <= value <= Decimal(1):
        errors["value"] = ["Enter a percentage between 0 and 100."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        benchmark, _ = Benchmark.objects.update_or_create(
            pool=pool, quarter=str(quarter), figure=figure, area=area,
            defaults={"value": value, "source": source.strip()},
        )  # fmt: skip
        audit_record(pool=pool, actor=by, action="benchmark.set", target=benchmark,
                     reason=f"{quarter} {figure} {area} = {value} ({source.strip()})")  # fmt: skip
    return benchmark


# --- Committee reports -----------------------------------------------------------------------


def report_for(*, pool: Pool, quarter: Quarter) -> CommitteeReport:
    report, _ = CommitteeReport.objects.get_or_create(pool=pool, quarter=str(quarter))
    return report


def report_notes_save(*, report: CommitteeReport, notes: str, by: User) -> CommitteeReport:
    if report.status == CommitteeReport.Status.PUBLISHED:
        raise ValidationError({"officer_notes": ["A published report cannot change."]})
    report.officer_notes = notes.strip()
    report.save(update_fields=["officer_notes"])
    return report


def report_publish(*, report: CommitteeReport, by: User) -> CommitteeReport:
    """Freeze the report: compute every figure with the current definitions and store
    them with the version; from then on the report shows the stored figures only."""
    with transaction.atomic():
        locked = CommitteeReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == CommitteeReport.Status.PUBLISHED:
            raise ValidationError("This report is already published.")
        figures = workforce_report(pool_ids=[locked.pool_id], quarter=Quarter.parse(locked.quarter))
        locked.figures = figures
        locked.definitions_version = figures["definitions_version"]
        locked.status = CommitteeReport.Status.PUBLISHED
        locked.published_at = timezone.now()
        locked.published_by = by
        locked.save()
        audit_record(pool=locked.pool, actor=by, action="report.published", target=locked,
                     reason=f"{locked.quarter}, definitions version {locked.definitions_version}")  # fmt: skip
    return locked


def report_figures(*, report: CommitteeReport) -> dict[str, Any]:
    """A published report's stored figures, or a draft's computed now."""
    if report.status == CommitteeReport.Status.PUBLISHED and report.figures is not None:
        return dict(report.figures)
    return workforce_report(pool_ids=[report.pool_id], quarter=Quarter.parse(report.quarter))
