"""``library.reg``: the medicines, footnotes and shared blocks a library's regimens use."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import assert_never

from regdsl.compile.lower.regimen import LIBRARY_HELP, misplaced
from regdsl.compile.lower.words import LibraryDefs, route_named
from regdsl.diagnostics import Code, Sink
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir
from regdsl.model.conditions import GROUPS, MEASURES, VOCABULARIES, Measure, Values
from regdsl.model.dosing import Family, UsualRange, family
from regdsl.model.medicines import CLASSES, LifetimeLimit, Medicine, MedicineTable, make_medicine
from regdsl.model.routes import Fact, Routes
from regdsl.model.vocabulary import INTRATHECAL, ROUTE_BY_ALIAS, ROUTES, Basis, Route, Unit, find_unit
from regdsl.source import Span
from regdsl.syntax.expected import close_match

__all__ = ["lower_library"]

_NO_SOURCE = "the library's entry (library.reg), which states no source"


def _known_class(word: ast.Word, sink: Sink) -> bool:
    """Whether ``class NAME`` names a class regdsl knows; reports it when not."""
    if word.text in CLASSES:
        return True
    guess = close_match(word.text, CLASSES)
    sink.report(
        c.UNKNOWN_MEDICINE_CLASS,
        word.span,
        f"no medicine class `{word.text}`",
        label="not a known class",
        help=f"did you mean `{guess}`?" if guess else "classes: " + ", ".join(sorted(CLASSES)),
    )
    return False


def _same_as(text: ast.Text, base: MedicineTable, earlier: Sequence[Medicine], sink: Sink) -> Medicine:
    """Return the medicine ``same as "NAME"`` names: in the default table or earlier in ``library.reg``."""
    found = base.find(text.value) or next((m for m in earlier if text.value.lower() in m.spellings()), None)
    if found is None:
        sink.report(
            c.UNKNOWN_MEDICINE,
            text.span,
            f'`same as` names a medicine not in the medicine table: "{text.value}"',
            label="not in the medicine table",
            help="name a medicine of the default table, or one defined above it in library.reg",
        )
        return make_medicine(text.value)  # what its name alone says it is still applies
    return found


def _lifetime(name: str, written: Sequence[ast.LifetimeMax], sink: Sink) -> LifetimeLimit | None:
    """Return the library's lifetime limit of medicine ``name`` (``lifetime max``), if it gives one."""
    found = None
    for item in written:
        if found is not None:
            sink.report(c.DUPLICATE_DEFINITION, item.span, "the lifetime limit is given twice", label="second limit")
            continue
        unit = find_unit(item.unit.text)
        if (
            unit is None
            or unit.per_minutes is not None
            or unit.basis not in {Basis.ABSOLUTE, Basis.PER_M2, Basis.PER_KG}
        ):
            sink.report(
                c.UNKNOWN_UNIT,
                item.unit.span,
                f"a lifetime limit is an amount of the medicine, such as `550 mg/m2`, not `{item.unit.text}`",
                label="not an amount unit",
                help="write the limit in the unit the source gives it: mg/m2, mg, units ...",
            )
            continue
        source = item.source.value if item.source else "the library's limit (library.reg), which states no source"
        found = LifetimeLimit(name, unit.code, Decimal(item.amount.text), source)
    return found


def _emetogenic(written: Sequence[ast.EmetogenicRisk], known: Sequence[Medicine], sink: Sink) -> tuple[str, str] | None:
    """Return the library's emetic risk of a medicine (``emetogenic risk``), else that of the one it is the same as."""
    for item in written[1:]:
        sink.report(c.DUPLICATE_DEFINITION, item.span, "the emetic risk is given twice", label="second risk")
    if written:
        item = written[0]
        source = item.source.value if item.source else "the library's emetic risk (library.reg), which states no source"
        return (item.tier.text.lower(), source)
    return next((m.emetogenic for m in known if m.emetogenic is not None), None)


_Refusal = tuple[Code, Span, str, str, str]  # code, where, message, label, help


def _usual_refusal(item: ast.UsualDose, unit: Unit | None, route: Route | None) -> _Refusal | None:
    """Return why a `usual dose` line cannot be used (its unit, its route, its range), or None."""
    low, high = item.low.text, (item.high or item.low).text
    if unit is None or family(unit) is None or unit.basis is Basis.COUNT:
        return (
            c.UNKNOWN_UNIT,
            item.unit.span,
            f"a usual dose is an amount of the medicine, such as `0.4 to 2 mg/m2`, not `{item.unit.text}`",
            "not a dose unit",
            "write the range in the unit the source gives it: mg/m2, mg/kg, mg, AUC, mg/m2/day ...",
        )
    if route is None:
        guess = close_match(item.route.text, [a for r in ROUTES for a in r.aliases])
        return (
            c.UNKNOWN_ROUTE,
            item.route.span,
            f"unknown route `{item.route.text}`",
            "not a known route",
            f"did you mean `{guess}`?" if guess else "routes are oral, IV, subcut, IM, intrathecal, intravesical...",
        )
    if not 0 < Decimal(low) <= Decimal(high):
        return (
            c.BAD_RANGE,
            item.span,
            f"a usual dose from {low} to {high} is not a range of doses",
            "not a range of doses",
            "write the lowest dose first, then `to` and the highest",
        )
    return None


def _usual(name: str, written: Sequence[ast.UsualDose], sink: Sink) -> tuple[UsualRange, ...]:
    """Return the library's usual dose ranges of medicine ``name`` (``usual dose``), one per unit family and route."""
    found: dict[tuple[Family, str], UsualRange] = {}
    for item in written:
        unit, route = find_unit(item.unit.text), ROUTE_BY_ALIAS.get(item.route.text.lower())
        refusal = _usual_refusal(item, unit, route)
        if refusal is not None:
            code, span, message, label, help = refusal
            sink.report(code, span, message, label=label, help=help)
            continue
        assert unit is not None
        assert route is not None
        usual = UsualRange(
            medicine=name,
            route=route.code,
            route_text=item.route.text,
            unit=unit,
            low=Decimal(item.low.text),
            high=Decimal((item.high or item.low).text),
            source=item.source.value if item.source else "the library's range (library.reg), which states no source",
        )
        if (usual.family, route.code) in found:
            sink.report(c.DUPLICATE_DEFINITION, item.span, "this usual dose is given twice", label="second range")
            continue
        found[usual.family, route.code] = usual
    return tuple(found.values())


def _equivalent(written: Sequence[ast.Equivalent], sink: Sink) -> tuple[Decimal, str] | None:
    """Return the library's doxorubicin-equivalent factor of a medicine and its source, if it gives one."""
    for item in written[1:]:
        sink.report(
            c.DUPLICATE_DEFINITION, item.span, "the doxorubicin equivalent is given twice", label="second factor"
        )
    if not written:
        return None
    first = written[0]
    source = first.source.value if first.source else "the library's factor (library.reg), which states no source"
    return Decimal(first.factor.text), source


def _routes(written: Sequence[ast.RouteFact], sink: Sink) -> tuple[Routes | None, bool]:
    """Return the routes a library entry gives (``route IV``), and whether one is the intrathecal route."""
    codes: list[str] = []
    sources: list[str] = []
    for item in written:
        route = route_named(sink, item.route)
        if route is not None:
            codes.append(route.code)
            sources.append(item.source.value if item.source else _NO_SOURCE)
    if not codes:
        return None, False
    return Routes(frozenset(codes), "; ".join(dict.fromkeys(sources))), INTRATHECAL in codes


def _fatal(name: str, written: Sequence[ast.RouteFact], sink: Sink) -> Fact | None:
    """Return the library's mark that a medicine is fatal intrathecally (``fatal intrathecal``), if it gives one."""
    found = None
    for item in written:
        route = route_named(sink, item.route)
        if route is not None and route.code != INTRATHECAL:
            sink.report(
                c.UNKNOWN_ROUTE,
                item.route.span,
                f"only the intrathecal route can be marked fatal, not `{item.route.text}`",
                label="not the intrathecal route",
                help="write `fatal intrathecal`; give the routes it is given by with `route` lines",
            )
        elif route is not None:
            found = found or Fact(name, item.source.value if item.source else _NO_SOURCE)
    return found


def lower_library(module: ast.Module, base: MedicineTable, sink: Sink) -> LibraryDefs:
    """Lower ``library.reg``: medicines, footnotes, shared blocks, response vocabularies and groups."""
    medicines: list[Medicine] = []
    defined: dict[str, dict[str, Values]] = {"responses": {}, "group": {}}
    measures: dict[str, Measure] = {}
    footnotes: dict[str, ir.Footnote] = {}
    blocks: dict[str, ast.BlockDef] = {}
    names: dict[str, Span] = {}
    for item in module.items:
        match item:
            case ast.LibraryHeader():
                pass
            case ast.MedicineDef(name=name, aliases=aliases, codes=codes, role=role):
                key = name.value.lower()
                if key in names:
                    sink.report(
                        c.DUPLICATE_DEFINITION,
                        name.span,
                        f'medicine "{name.value}" is defined twice',
                        label="second definition",
                    )
                    continue
                names[key] = name.span
                default = base.find(name.value)
                nzmt = next(
                    (code.value for system, code in codes if "nzmt" in system.value or "nzulm" in system.value),
                    default.nzmt if default else None,
                )
                known = [*([default] if default else []), *(_same_as(t, base, medicines, sink) for t in item.same_as)]
                routes, intrathecal = _routes(item.routes, sink)
                medicines.append(
                    make_medicine(
                        name.value,
                        tuple(a.text for a in aliases) + (default.aliases if default else ()),
                        nzmt=nzmt,
                        anticancer=(role.text == "anticancer") if role else any(m.anticancer for m in known),
                        intrathecal=intrathecal or any(m.intrathecal for m in known),
                        classes=[w.text for w in item.classes if _known_class(w, sink)],
                        same_as=known,
                        lifetime=_lifetime(name.value.lower(), item.lifetime, sink),
                        usual=_usual(name.value.lower(), item.usual, sink),
                        equivalent=_equivalent(item.equivalent, sink),
                        routes=routes,
                        fatal=_fatal(name.value.lower(), item.fatal, sink),
                        emetogenic=_emetogenic(item.emetogenic, known, sink),
                    )
                )
            case ast.FootnoteDef(name=name, marker=marker, prose=prose):
                if name.text in footnotes:
                    sink.report(
                        c.DUPLICATE_DEFINITION,
                        name.span,
                        f"footnote `{name.text}` is defined twice",
                        label="second definition",
                    )
                    continue
                footnotes[name.text] = ir.Footnote(span=item.span, name=name.text, marker=marker.value, text=prose.text)
            case ast.BlockDef(name=name):
                if name.text in blocks:
                    sink.report(
                        c.DUPLICATE_DEFINITION,
                        name.span,
                        f"block `{name.text}` is defined twice",
                        label="second definition",
                    )
                    continue
                blocks[name.text] = item
            case ast.MeasureDef(name=name, title=title, unit=unit):
                if name.text in measures:
                    message = f"measure `{name.text}` is defined twice"
                    sink.report(c.DUPLICATE_DEFINITION, name.span, message, label="second definition")
                    continue
                measures[name.text] = Measure(name=name.text, title=title.value, unit=unit.text, source=None)
            case ast.ValuesDef(kind=kind, name=name, title=title, values=values):
                what = "response vocabulary" if kind == "responses" else "group"
                if name.text in defined[kind]:
                    sink.report(
                        c.DUPLICATE_DEFINITION,
                        name.span,
                        f"{what} `{name.text}` is defined twice",
                        label="second definition",
                    )
                    continue
                defined[kind][name.text] = Values(
                    name=name.text,
                    title=title.value,
                    values=tuple(dict((v.value.text, v.title.value) for v in values).items()),
                    source=None,
                )
            case (
                ast.RegimenHeader()
                | ast.DrugDecl()
                | ast.Cycle()
                | ast.Continuous()
                | ast.Support()
                | ast.Reference()
                | ast.Part()
                | ast.Plan()
            ):
                misplaced(sink, item, "a regimen section", "library.reg", LIBRARY_HELP)
            case _:
                assert_never(item)
    return LibraryDefs(
        medicines=base.extended(tuple(medicines)),
        footnotes=footnotes,
        blocks=blocks,
        vocabularies={**VOCABULARIES, **defined["responses"]},
        groups={**GROUPS, **defined["group"]},
        measures={**MEASURES, **measures},
    )
