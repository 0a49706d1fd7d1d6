"""Fields and clauses: each given once, the required ones given, and an id that names the regimen's files."""

from __future__ import annotations

import re
from collections.abc import Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.check.rules._shared import administrations, metas
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir

__all__ = [
    "bad_regimen_id",
    "duplicate_clause",
    "duplicate_field",
    "id_not_a_file_name",
    "missing_days",
    "missing_field",
]

_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# An id names files: short enough for every file system, and no device name Windows reserves.
_MAX_ID_LENGTH = 128
_RESERVED_ID = re.compile(r"con|prn|aux|nul|com[0-9]|lpt[0-9]", re.IGNORECASE)


@rule("STR001", "duplicate-field", Severity.ERROR, "a field is given twice")
def duplicate_field(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find fields given twice in the heading of a regimen or of a part.

    What it does: flags the second (and every further) `name`, `status`, `setting`,
    `cancer`, `footnotes`, `overview`, date or text field of one heading, and a second
    `start` of a part. The first is the one in force.

    Why it matters: the regimen then says two things where it can mean one, and which one
    a reader takes is an accident of order.

    Example:
        regimen my-regimen
          name "Fixture"
          name "Again"

    Use instead: give each field once.
    """
    for meta in metas(ctx.regimen):
        for key, again, first in meta.repeated:
            yield duplicate_field.finding(
                again,
                f"`{key}` is given twice",
                label="second time",
                secondary=(Label(first, "first given here"),),
            )


@rule("STR002", "missing-field", Severity.ERROR, "a required field is missing")
def missing_field(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find a regimen without its `name` or `status`, and a superseded regimen that names no successor.

    What it does: flags a regimen whose heading gives no `name` or no `status` (not when
    syntax errors removed lines of the file: that would only repeat them), and a `status
    superseded` without `by` and the id of the regimen that replaces it.

    Why it matters: the name is what prescribers look for, the status whether the regimen
    may be used; a superseded regimen must lead its reader to the one in use.

    Example:
        regimen my-regimen
          status superseded

    Use instead: `name "..."`, `status draft` (a regimen not transcribed from a published
    source is a draft), `status superseded by NEW-ID`.
    """
    regimen = ctx.regimen
    if not regimen.partial:
        if regimen.meta.status_span is None:
            yield missing_field.finding(
                regimen.span,
                "the regimen has no `status`",
                label="add `status draft`",
                help="a regimen not transcribed from a published source is `status draft`",
            )
        if regimen.meta.get("name") is None:
            yield missing_field.finding(regimen.span, "the regimen has no `name`", label='add `name "..."`')
    for meta in metas(regimen):
        if meta.status is ir.Status.SUPERSEDED and meta.superseded_by is None and meta.status_span is not None:
            yield missing_field.finding(
                meta.status_span,
                "`superseded` names the regimen that replaces it",
                label="write `status superseded by NEW-ID`",
            )


@rule("STR009", "duplicate-clause", Severity.ERROR, "a clause is given twice on one line")
def duplicate_clause(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find a clause given twice on one administration line.

    What it does: flags the second (and every further) `days`, `over`, frequency, `prn`,
    role, `off-label`, `s29`, volume or cap clause of one line; timing relations may be
    given several times. The first is the one in force.

    Why it matters: an administration states each of days, duration, frequency and so on
    once; a second one is a slip that leaves the line saying two things.

    Example:
        loratadine 10 mg oral days 1 days 8

    Use instead: `loratadine 10 mg oral days 1, 8`.
    """
    for admin in administrations(ctx.regimen):
        for again, first in admin.repeated:
            yield duplicate_clause.finding(
                again, "this is said twice on one line", label="second time", secondary=(Label(first, "first here"),)
            )


@rule("STR010", "missing-days", Severity.ERROR, "an administration has no days")
def missing_days(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find administrations that do not say on which days they are given.

    What it does: flags an administration line with no `days` clause (a line of a shared
    block may take its days from the `use` line instead).

    Why it matters: a dose without days is given on no day at all, or on whichever day the
    reader guesses.

    Example:
        loratadine 10 mg oral

    Use instead: `loratadine 10 mg oral days 1, 8, 15`.
    """
    for admin in administrations(ctx.regimen):
        if admin.days_span is None:
            yield missing_days.finding(
                admin.span,
                "this administration does not say on which days",
                label="no `days` clause",
                help="add the days, such as `days 1, 8, 15`",
            )


@rule("STR012", "bad-regimen-id", Severity.ERROR, "a regimen id is not a lower-case slug")
def bad_regimen_id(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find regimen ids that are not lower-case letters and digits joined by hyphens.

    What it does: flags a regimen id with capitals, underscores or hyphens that do not join
    two words.

    Why it matters: regimen ids name files and links, which must be the same on every
    system: `Leu_ALL` and `leu-all` would be two regimens on one file system and one on
    another.

    Example:
        regimen Leu_ALL

    Use instead: `regimen leu-all-bcell-rr-inotuzumab`.
    """
    regimen = ctx.regimen
    if not _ID.fullmatch(regimen.id):
        yield bad_regimen_id.finding(
            regimen.id_span,
            f"regimen id `{regimen.id}` is not a lower-case slug",
            label="use lower-case letters, digits and hyphens",
        )


@rule("STR019", "regimen-id-not-a-file-name", Severity.ERROR, "a regimen id cannot name a file", suppressible=False)
def id_not_a_file_name(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find regimen ids that cannot name the regimen's pages on some file system.

    What it does: flags a regimen id longer than 128 characters, or one that Windows
    reserves for a device (`con`, `prn`, `aux`, `nul`, `com0` to `com9`, `lpt0` to `lpt9`,
    in any case). This finding cannot be suppressed, ignored or downgraded.

    Why it matters: a regimen id names its pages (`ID.html`, `ID.md`, `ID.json`), so it must
    be a file name on every file system; a build could not publish it.

    Example:
        regimen con

    Use instead: an id that says what the regimen is, such as `leu-all-bcell-rr-inotuzumab`.
    """
    regimen_id = ctx.regimen.id
    if len(regimen_id) > _MAX_ID_LENGTH:
        problem = f"is {len(regimen_id)} characters long; ids are at most {_MAX_ID_LENGTH}"
        choose = "a shorter id"
    elif _RESERVED_ID.fullmatch(regimen_id):
        problem = "is a device name that Windows reserves, so no page can be named after it"
        choose = "an id"
    else:
        return
    yield id_not_a_file_name.finding(
        ctx.regimen.id_span,
        f"regimen id `{regimen_id[:40]}{'...' if len(regimen_id) > 40 else ''}` {problem}",
        label="the pages are named after the id",
        help=f"choose {choose} that says what the regimen is, such as `leu-all-bcell-rr-inotuzumab`",
    )
