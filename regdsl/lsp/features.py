"""What the server answers, from an ``Analysis``: findings, hover, definitions, references, completion, symbols, fixes.

Each function takes offsets in code points and returns plain data (text, spans); the server
turns them into the protocol's positions (``positions``), so nothing here counts UTF-16.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from regdsl.check.rules import registry
from regdsl.compile.library import LIBRARY_FILE, MAX_BYTES, Library, PathError, lower_file, read_regular, regimen_files
from regdsl.compile.stn import PointId, day_of
from regdsl.diagnostics import Diagnostic, Sink
from regdsl.lsp.document import Analysis, as_read, shown_path
from regdsl.lsp.index import Name, library_names, nodes, regimen_names
from regdsl.lsp.positions import before_on_line, inserted_line
from regdsl.model import ast, ir
from regdsl.model.doses import dose_text
from regdsl.model.dosing import facts
from regdsl.model.medicines import CLASSES, KNOWN, Medicine
from regdsl.model.routes import route_label
from regdsl.model.vocabulary import FREQUENCIES, ROUTES, UNITS
from regdsl.model.wording import DAY, clock_text, minutes_text, relation_text
from regdsl.source import SourceFile, Span
from regdsl.syntax.layout import format_source
from regdsl.syntax.parser import build_parser, parse, parse_heading

__all__ = [
    "Completion",
    "Symbol",
    "completions",
    "definitions",
    "formatted",
    "hover",
    "keywords",
    "references",
    "suppression_edit",
    "symbols",
]

_ATC = {known.name: known.atc for known in KNOWN}
_SUPPRESSION = re.compile(r"#\s*regdsl:\s*ignore\[(?P<names>[^\]]*)\]")
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9 -]*")
# Where only a regimen's id may follow: `continue with ...`, `counted with ...`.
_LINK_BEFORE = re.compile(r"\b(?:continue|counted)\s+with\s+(?:[\w.-]+\s*,\s*)*[\w.-]*$")


# -- hover -------------------------------------------------------------------------------


def hover(analysis: Analysis, offset: int) -> tuple[str, Span] | None:
    """Return what to show for the word at ``offset`` (Markdown) and the span it is about; None for nothing."""
    return (
        _suppression_hover(analysis, offset)
        or _name_hover(analysis, offset)
        or _dose_hover(analysis, offset)
        or _relation_hover(analysis, offset)
    )


def _suppression_hover(analysis: Analysis, offset: int) -> tuple[str, Span] | None:
    module = analysis.unit.module
    comment = next((c for c in module.comments if c.span.start <= offset <= c.span.end), None) if module else None
    match = _SUPPRESSION.search(comment.text) if comment is not None else None
    if comment is None or match is None:
        return None
    start = comment.span.start + match.start("names")
    for part in re.finditer(r"[^,\s]+", match.group("names")):
        span = comment.span.part(start + part.start(), start + part.end())
        if span.start <= offset <= span.end:
            code = registry().find(part.group())
            if code is None:
                return f"`{part.group()}` is no rule of regdsl (`regdsl rules` lists them)", span
            never = "" if code.suppressible else "\n\nThis finding cannot be suppressed."
            return f"**{code.code}** `{code.name}` ({code.severity.value}): {code.summary}{never}", span
    return None


def _name_hover(analysis: Analysis, offset: int) -> tuple[str, Span] | None:
    name = analysis.name_at(offset)
    if name is None or analysis.library is None:
        return None
    library = analysis.library
    if name.kind == "medicine":
        medicine = next((m for m in library.defs.medicines.medicines if m.name == name.key), None)
        return (medicine_text(medicine), name.span) if medicine is not None else None
    if name.kind == "footnote":
        note = library.defs.footnotes.get(name.key)
        return (f"**Footnote `{note.name}`** ({note.marker})\n\n{note.text}", name.span) if note else None
    if name.kind == "regimen":
        info = library.infos.get(name.key)
        if info is None:
            return f"No regimen `{name.key}` in this library", name.span
        status = f", {info.status}" if info.status else ""
        return f"**Regimen `{info.id}`**{status}\n\n{info.name or ''}\n\n`{Path(info.path).name}`", name.span
    module = analysis.unit.module
    written = [n for n in module.items if isinstance(n, ast.BlockDef) and n.name.text == name.key] if module else []
    block = written[0] if written else library.defs.blocks.get(name.key)
    if block is None:
        return None
    lines = ", ".join(item.drug.text for item in block.items if isinstance(item, ast.Admin))
    return f"**Block `{name.key}`**: {lines or 'notes only'}", name.span


def medicine_text(medicine: Medicine) -> str:
    """Say what a medicine is: its codes and classes, its usual doses and what its routes must respect."""
    lines = [f"**{medicine.display}** ({'anticancer' if medicine.anticancer else 'supportive'})"]
    codes = [f"ATC {atc}" for atc in dict.fromkeys(_ATC.get(known) for known in medicine.known) if atc]
    if medicine.nzmt:
        codes.append(f"NZMT {medicine.nzmt}")
    if codes:
        lines.append("Codes: " + ", ".join(codes))
    if medicine.classes:
        lines.append(
            "Classes: "
            + "; ".join(
                f"{name} ({CLASSES[name].description})" if name in CLASSES else name
                for name in sorted(medicine.classes)
            )
        )
    if medicine.aliases:
        lines.append("Also written: " + ", ".join(medicine.aliases))
    ranges = [*medicine.usual, *facts(medicine).ranges]
    for usual in ranges:
        what = "usual cap" if usual.kind == "cap" else "usual dose"
        lines.append(f"{what} {usual.route_text}: {usual.text} (source: {usual.source})")
    if medicine.routes is not None:
        routes = sorted(route_label(code) or code for code in medicine.routes)
        source = f" (source: {medicine.routes_source})" if medicine.routes_source else ""
        lines.append(f"Given only {', '.join(routes)}{source}")
    if medicine.fatal_intrathecal is not None:
        lines.append(f"**Fatal if given intrathecally** (source: {medicine.fatal_intrathecal.source})")
    for route in sorted(medicine.routes or ()):
        label = medicine.label(route)
        if label:
            lines.append(f"Label: {label}")
            break
    return "\n\n".join(lines)


def _administrations(regimen: ir.Regimen) -> Iterator[tuple[PointId, int, ir.CycleGroup, ir.Administration]]:
    """Yield each line of each cycle group with its group's point prefix and its index in the group."""
    for p, part in enumerate(regimen.parts, start=1):
        for g, group in enumerate(part.cycles):
            for index, admin in enumerate(group.administrations):
                yield PointId(p, g, group.first), index, group, admin


def _line_at(analysis: Analysis, offset: int) -> tuple[PointId, int, ir.CycleGroup, ir.Administration] | None:
    regimen = analysis.unit.regimen
    if regimen is None:
        return None
    path = analysis.source.path
    return next(
        (
            found
            for found in _administrations(regimen)
            if found[3].span.path == path and found[3].span.start <= offset <= found[3].span.end
        ),
        None,
    )


def _dose_hover(analysis: Analysis, offset: int) -> tuple[str, Span] | None:
    module, found = analysis.unit.module, _line_at(analysis, offset)
    if module is None or found is None:
        return None
    admin = found[3]
    written = next((n for n in nodes(module) if isinstance(n, ast.Admin) and n.span == admin.span), None)
    if written is None or not written.dose.span.start <= offset <= written.dose.span.end:
        return None
    given = [dose_text(admin.dose, admin.cap)]  # in the page's words: the dose, then how often
    if admin.frequency is not None:
        given.append(admin.frequency.phrase)
    elif admin.clock is not None:
        given.append(clock_text(admin.clock, minutes_text))
    lines = [f"**{admin.medicine.display} {' '.join(given)}**" + (" as needed" if admin.prn else "")]
    if admin.cap is None:
        lines.append("No cap is written on this dose.")
    route = admin.route.code if admin.route else None
    for usual in facts(admin.medicine).ranges:
        if usual.route == route:
            lines.append(
                f"{'usual cap' if usual.kind == 'cap' else 'usual dose'}: {usual.text} (source: {usual.source})"
            )
    return "\n\n".join(lines), written.dose.span


def _clock(minutes: int) -> str:
    """Say a time of the cycle on the day the pages say it falls on (``day_of``: day 0 is the day before day 1)."""
    within = minutes % DAY
    return f"day {day_of(minutes)} {within // 60:02d}:{within % 60:02d}"


def _relation_hover(analysis: Analysis, offset: int) -> tuple[str, Span] | None:
    found = _line_at(analysis, offset)
    if found is None:
        return None
    prefix, index, group, admin = found
    relation = next((r for r in admin.relations if r.span.start <= offset <= r.span.end), None)
    if relation is None:
        return None
    compiled = analysis.compiled
    if compiled is None:
        return None
    displays = {a.medicine.name: a.medicine.display for g in compiled.regimen.cycles() for a in g.administrations}
    lines = [f"**{admin.medicine.display}**: {relation_text(relation, displays, minutes_text)}"]
    solved = compiled.windows
    if solved is None:
        lines.append("The timing rules of this regimen conflict: no window is solved.")
        return "\n\n".join(lines), relation.span
    for day in admin.days[:3]:
        window = solved.get(prefix.dose(index, day))
        if window is not None:
            early, late = window
            lines.append(
                f"Cycle {group.first}, the day {day} dose: the timing rules allow its start "
                f"from {_clock(early)} to {_clock(late)} of the cycle"
            )
    return "\n\n".join(lines), relation.span


# -- definitions and references ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _File:
    """A source of the library, read as the editor has it when open, with the names it writes."""

    source: SourceFile
    names: list[Name]


def _open_or_saved(path: Path, texts: Mapping[Path, str]) -> SourceFile | None:
    text = texts.get(path)
    if text is None:
        try:
            text = read_regular(path, MAX_BYTES)[0].decode("utf-8", errors="replace")
        except PathError:  # gone, or unreadable, since it was listed
            return None
    return SourceFile(str(path), text)


def _library_file(library: Library, texts: Mapping[Path, str]) -> _File | None:
    path = library.root / LIBRARY_FILE
    source = _open_or_saved(path, texts)
    if source is None:
        return None
    return _File(source, library_names(parse(source, Sink()), library.defs.medicines))


def _files(analysis: Analysis, texts: Mapping[Path, str]) -> Iterator[_File]:
    """Yield every source of the document's library: the document itself first, then library.reg and the rest."""
    yield _File(analysis.source, analysis.names)
    library = analysis.library
    if library is None:
        return
    if library.source is not None and not analysis.is_library:
        found = _library_file(library, texts)
        if found is not None:
            yield found
    try:
        listed = regimen_files(library.root, below=library.source is not None)
    except PathError:
        return
    for path, _info in listed:
        if path.name == LIBRARY_FILE or path == analysis.path:
            continue
        text = texts.get(path)
        try:
            unit = lower_file(path, library, as_read(text) if text is not None else None)
        except PathError:  # gone, or unreadable, since it was listed
            continue
        if unit.module is not None:
            yield _File(unit.source, regimen_names(unit.module, unit.regimen))


def definitions(analysis: Analysis, offset: int, texts: Mapping[Path, str]) -> list[tuple[SourceFile, Span]]:
    """Return where the name at ``offset`` is defined: an alias, a library medicine, block or footnote, a regimen."""
    name = analysis.name_at(offset)
    if name is None:
        return []
    if name.kind == "regimen":
        return _regimen_definition(analysis, name, texts)
    found = [
        (analysis.source, n.span) for n in analysis.names if n.defines and (n.kind, n.key) == (name.kind, name.key)
    ]
    library = analysis.library
    if library is not None and library.source is not None and not analysis.is_library:
        shared = _library_file(library, texts)
        if shared is not None:
            found += [
                (shared.source, n.span) for n in shared.names if n.defines and (n.kind, n.key) == (name.kind, name.key)
            ]
    return found


def _regimen_definition(analysis: Analysis, name: Name, texts: Mapping[Path, str]) -> list[tuple[SourceFile, Span]]:
    info = analysis.library.infos.get(name.key) if analysis.library is not None else None
    source = _open_or_saved(shown_path(info.path), texts) if info is not None else None
    header = parse_heading(source) if source is not None else None
    if source is None or header is None:
        return []
    return [(source, header.id.span)]


def references(
    analysis: Analysis, offset: int, texts: Mapping[Path, str], *, declarations: bool
) -> list[tuple[SourceFile, Span]]:
    """Return every place in the library naming what the name at ``offset`` names (definitions too, if asked)."""
    name = analysis.name_at(offset)
    if name is None:
        return []
    return [
        (file.source, n.span)
        for file in _files(analysis, texts)
        for n in file.names
        if (n.kind, n.key) == (name.kind, name.key) and (declarations or not n.defines)
    ]


# -- completion -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Completion:
    """One completion: the text, what it is (``keyword``, ``medicine``, ``unit``, ...), and a detail."""

    label: str
    kind: str
    detail: str = ""


@functools.cache
def keywords() -> tuple[str, ...]:
    """Return the keywords of the language: the grammar's terminals that are words (read once)."""
    found = {t.pattern.value for t in build_parser().terminals if t.pattern.type == "str"}
    return tuple(sorted(word for word in found if _KEYWORD.fullmatch(word)))


def completions(analysis: Analysis, offset: int) -> list[Completion]:
    """Return what may be written at ``offset``: regimen ids after `continue with`, else every word it knows."""
    before = before_on_line(analysis.source, offset)
    library = analysis.library
    ids = [
        Completion(info.id, "regimen", info.name or "")
        for info in (library.infos.values() if library is not None else ())
        if shown_path(info.path) != analysis.path
    ]
    if _LINK_BEFORE.search(before):
        return ids
    found = [Completion(word, "keyword") for word in keywords()]
    medicines = library.defs.medicines.medicines if library is not None else ()
    for medicine in medicines:
        found.append(Completion(medicine.display, "medicine", "anticancer" if medicine.anticancer else "supportive"))
    module = analysis.unit.module
    for item in module.items if module is not None else ():
        if isinstance(item, ast.DrugDecl):
            found.append(Completion(item.alias.text, "medicine", f"alias of {item.medicine.value}"))
    found += [Completion(unit.display, "unit", unit.term) for unit in UNITS]
    found += [Completion(alias, "route", route.term) for route in ROUTES for alias in route.aliases]
    found += [Completion(f.phrase, "frequency", f.term) for f in FREQUENCIES]
    found += ids
    unique = {(c.label, c.kind): c for c in found}
    return list(unique.values())


# -- formatting, fixes, suppressions ----------------------------------------------------


def formatted(analysis: Analysis) -> str | None:
    """Return the document in ``regdsl fmt``'s layout; None when it does not parse (or is not fit to read)."""
    sink = Sink()
    if analysis.unit.module is None:
        return None
    return format_source(analysis.source, sink)


def suppression_edit(analysis: Analysis, diagnostic: Diagnostic) -> tuple[int, str] | None:
    """Return where to insert a suppression comment for ``diagnostic`` and its text; None if it cannot be suppressed.

    The comment stands alone on the line above the finding's, at its indentation, with a reason
    to be written in place of the placeholder; it is offered only when the text with it parses
    and the comment covers the finding's line.
    """
    if not diagnostic.code.suppressible:
        return None
    line = diagnostic.span.line
    start, comment, edited = inserted_line(analysis.source, line, f"# regdsl: ignore[{diagnostic.code.name}] -- REASON")
    sink = Sink()
    module = parse(edited, sink)
    if sink.has_errors or not any(c.covers == line + 1 and c.span.line == line for c in module.comments):
        return None
    return start, comment


# -- document symbols -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Symbol:
    """One entry of the document's outline: its name, kind, detail, span, the span to select, and what it holds."""

    name: str
    kind: str
    span: Span
    selection: Span
    detail: str = ""
    children: tuple[Symbol, ...] = ()


def symbols(analysis: Analysis) -> list[Symbol]:
    """Return the outline of the document: the regimen, its parts, cycles and their days and lines, blocks, plan."""
    module = analysis.unit.module
    if module is None:
        return []
    regimen = analysis.unit.regimen
    groups = {group.span: group for group in regimen.cycles()} if regimen is not None else {}
    items = [symbol for item in module.items for symbol in _item_symbols(item, groups)]
    header = next((i for i in module.items if isinstance(i, ast.RegimenHeader)), None)
    if header is None:
        return items
    rest = tuple(s for s in items if s.selection != header.id.span)
    return [Symbol(f"regimen {header.id.text}", "regimen", module.span, header.id.span, children=rest)]


def _item_symbols(item: object, groups: Mapping[Span, ir.CycleGroup]) -> Iterator[Symbol]:
    if isinstance(item, ast.RegimenHeader):
        yield Symbol(item.id.text, "regimen", item.span, item.id.span)
    elif isinstance(item, ast.LibraryHeader):
        yield Symbol(item.title.value, "library", item.span, item.title.span)
    elif isinstance(item, ast.DrugDecl):
        yield Symbol(item.alias.text, "alias", item.span, item.alias.span, item.medicine.value)
    elif isinstance(item, ast.MedicineDef):
        yield Symbol(item.name.value, "medicine", item.span, item.name.span)
    elif isinstance(item, ast.FootnoteDef):
        yield Symbol(item.name.text, "footnote", item.span, item.name.span, item.marker.value)
    elif isinstance(item, ast.BlockDef):
        yield Symbol(f"block {item.name.text}", "block", item.span, item.name.span, children=tuple(_lines(item.items)))
    elif isinstance(item, ast.Cycle):
        yield _cycle_symbol(item, groups.get(item.span))
    elif isinstance(item, ast.Continuous):
        yield Symbol(
            "continuous treatment", "cycle", item.span, item.span.at_start(), children=tuple(_lines(item.body))
        )
    elif isinstance(item, ast.Part):
        children = tuple(s for sub in item.items for s in _item_symbols(sub, groups))
        yield Symbol(f"part {item.number.text}", "part", item.span, item.number.span, item.title.value, children)
    elif isinstance(item, ast.Plan | ast.Support | ast.Reference):
        name = {ast.Plan: "plan", ast.Support: "support", ast.Reference: "reference"}[type(item)]
        yield Symbol(name, name, item.span, item.span.part(item.span.start, item.span.start + len(name)))


def _lines(body: tuple[object, ...]) -> Iterator[Symbol]:
    for stmt in body:
        if isinstance(stmt, ast.Admin):
            yield Symbol(
                stmt.drug.text, "line", stmt.span, stmt.drug.span, f"{stmt.dose.amount.text} {stmt.dose.unit.text}"
            )


def _cycle_symbol(cycle: ast.Cycle, group: ir.CycleGroup | None) -> Symbol:
    name = f"cycles {cycle.first.text} to {cycle.last.text}" if cycle.last else f"cycle {cycle.first.text}"
    lines = {s.span: s for s in _lines(cycle.body)}
    days: dict[int, list[Symbol]] = {}
    for admin in group.administrations if group is not None else ():
        line = lines.get(admin.span)
        if line is not None:
            for day in sorted(set(admin.days)):
                days.setdefault(day, []).append(line)
    children = [
        Symbol(
            f"day {day}",
            "day",
            given[0].span.part(given[0].span.start, max(s.span.end for s in given)),
            given[0].selection,
            ", ".join(s.name for s in given),
            tuple(given),
        )
        for day, given in sorted(days.items())
    ]
    detail = f"{cycle.length.text} days"
    return Symbol(name, "cycle", cycle.span, cycle.header, detail, tuple(children) or tuple(lines.values()))
