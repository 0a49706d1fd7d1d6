"""Names and terms as written: one spelling per medicine, routes stated, coded terms, links that are links."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from regdsl.check.context import RuleContext
from regdsl.check.fixes import name_fix
from regdsl.check.registry import rule
from regdsl.check.rules._shared import administrations, metas
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ast, ir
from regdsl.model.vocabulary import FACTOR_NAMES, SETTINGS, find_factor
from regdsl.syntax.expected import close_match

__all__ = [
    "link_not_http",
    "missing_route",
    "named_two_ways",
    "uncoded_factor",
    "uncoded_factor_value",
    "uncoded_setting",
]


def _did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    guess = close_match(word, candidates)
    return f"did you mean `{guess}`?" if guess else None


@rule("VOC003", "missing-route", Severity.ERROR, "an administration has no route")
def missing_route(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find administrations that do not say by which route they are given.

    What it does: flags an administration line with no route after its dose.

    Why it matters: the route decides how a medicine is prepared and given, and some
    medicines are fatal by the wrong one; a line without a route leaves it to a guess.

    Example:
        loratadine 10 mg days 1

    Use instead: `loratadine 10 mg oral days 1`: every administration states its route
    right after the dose, such as `oral` or `IV`.
    """
    for admin in administrations(ctx.regimen):
        if admin.route_span is None:
            yield missing_route.finding(
                admin.dose.span.at_end(),
                "expected a route such as `oral` or `IV` after the dose",
                label="route missing here",
                help="every administration states its route",
            )


@rule("VOC010", "medicine-named-two-ways", Severity.WARNING, "a medicine is named two ways")
def named_two_ways(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find a medicine written with two spellings (or an alias and its name) in one regimen.

    What it does: flags every place a medicine is named with another spelling than the
    first one the regimen uses for it (a `drug` alias counts as the first, where declared).

    Why it matters: a regimen names each medicine one way, so that a reviewer reading the
    file sees at once that two lines are the same medicine.

    Example:
        drug ino = "inotuzumab ozogamicin"
        cycle 1: 21 days
          ino 0.8 mg/m2 IV day 1 over 60 min
          "inotuzumab ozogamicin" 0.5 mg/m2 IV day 8 over 60 min

    Use instead: one spelling everywhere: `ino` on both lines.
    """
    first: dict[str, ast.DrugRef | ast.Word] = {}
    for mention in ctx.regimen.mentions:
        written = mention.written
        earlier = first.setdefault(mention.medicine.name, written)
        if earlier.text != written.text:
            yield named_two_ways.finding(
                written.span,
                f"{mention.medicine.display} is written `{written.text}` here but `{earlier.text}` before",
                label="second spelling",
                secondary=(Label(earlier.span, "first written here"),),
                help=f"write `{earlier.text}` everywhere in this regimen",
                fixes=name_fix(written, earlier),
            )


@rule("VOC006", "uncoded-setting", Severity.INFO, "a treatment setting has no SNOMED CT code")
def uncoded_setting(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Note a treatment setting that is neither a coded setting nor given a code.

    What it does: notes a `setting` whose text is none of the coded settings and that gives
    no code in brackets. The setting is kept as text.

    Why it matters: exports that need a code (FHIR) will carry the text only, and a
    misspelt setting is not recognised as the coded one it was meant to be.

    Example:
        setting "Palliatve"

    Use instead: a coded setting (`setting "Palliative"`), or the setting's code:
    `setting "Bridging" [CODE]`.
    """
    for meta in metas(ctx.regimen):
        term = meta.setting
        if term is not None and term.code is None:
            yield uncoded_setting.finding(
                term.span,
                f'setting "{term.text}" has no SNOMED CT code',
                label="kept as text",
                help=_did_you_mean(term.text, SETTINGS) or 'give its code as `setting "..." [CODE]` if it has one',
            )


def _factors(regimen: ir.Regimen) -> Iterator[ir.SupportFactor]:
    yield from regimen.support.factors
    for part in regimen.parts:
        yield from part.support.factors


@rule("VOC007", "uncoded-factor", Severity.INFO, "a supportive-care factor has no code")
def uncoded_factor(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Note a supportive-care factor outside the coded vocabulary.

    What it does: notes a line of `support` whose factor is none of the coded factors
    (emetogenicity, growth factor support, antiviral prophylaxis...). It is kept, with its
    value, as text.

    Why it matters: exports and rules that read a factor by its code (the emetic risk of
    CMP005 and SUP001) do not see it; a misspelt factor is not the factor it was meant to be.

    Example:
        support
          Emetogencity: High

    Use instead: the factor as the vocabulary names it: `Emetogenicity: High`.
    """
    for factor in _factors(ctx.regimen):
        if factor.factor is None:
            yield uncoded_factor.finding(
                factor.factor_word.span,
                f'"{factor.factor_text}" is not a coded factor',
                label="kept as text",
                help=_did_you_mean(factor.factor_text, FACTOR_NAMES),
            )


@rule("VOC008", "uncoded-factor-value", Severity.INFO, "a factor value has no code")
def uncoded_factor_value(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Note a value of a coded factor that is none of its coded values.

    What it does: notes a line of `support` whose factor is coded but whose value is not one
    of that factor's coded values. It is kept as text.

    Why it matters: exports carry the text only, and rules that read the value by its code
    (a high emetic risk) do not see it.

    Example:
        support
          Emetogenicity: Very high

    Use instead: one of the coded values the finding lists, such as `Emetogenicity: High`.
    """
    for factor in _factors(ctx.regimen):
        coded = find_factor(factor.factor_text) if factor.factor is not None and factor.value is None else None
        if coded is not None:
            yield uncoded_factor_value.finding(
                factor.value_word.span,
                f'"{factor.value_text}" is not a coded value of {coded.term}',
                label="kept as text",
                help="coded values: " + "; ".join(v.texts[0] for v in coded.values),
            )


@rule("VOC016", "link-not-http", Severity.ERROR, "a link is not an http or https address")
def link_not_http(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find links that are not http or https addresses.

    What it does: flags a `url` (of the regimen, a part or a reference) that does not start
    with `http://` or `https://`.

    Why it matters: links are shown as links only for `http` and `https`; anything else
    (`javascript:`, `file:`) is refused because it can run code or leak local files, and is
    shown as plain text, so the reader loses the link.

    Example:
        reference "A citation."
          url "javascript:alert(1)"

    Use instead: the `https://` address of the source.
    """
    for link in ctx.regimen.links:
        scheme = link.text.split(":", 1)[0].lower() if ":" in link.text else ""
        if scheme not in {"http", "https"}:
            yield link_not_http.finding(
                link.span,
                "a link must start with `http://` or `https://`",
                label="not an http(s) link",
                help="links to anything else are shown as plain text",
            )
