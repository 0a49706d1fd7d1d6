"""A regimen file: its one heading, its aliases and blocks, its parts (or its cycles), sections and plan."""

from __future__ import annotations

from regdsl.compile.lower.administrations import relation
from regdsl.compile.lower.cycles import cycles
from regdsl.compile.lower.heading import meta
from regdsl.compile.lower.plan import bounded, plan, responses
from regdsl.compile.lower.sections import reference, support
from regdsl.compile.lower.words import LibraryDefs, Lowering
from regdsl.diagnostics import Sink
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.limits import TooComplex

__all__ = ["LIBRARY_HELP", "lower_regimen", "misplaced"]

LIBRARY_HELP = "library definitions go in `library.reg`; regimen sections in regimen files"


def misplaced(sink: Sink, node: ast.Node, what: str, where: str, help: str) -> None:
    """Report a statement the model has no place for where it is written."""
    sink.report(c.MISPLACED, node.span, f"{what} is not allowed in {where}", label="not allowed here", help=help)


def _header(module: ast.Module, sink: Sink, partial: bool) -> ast.RegimenHeader | None:
    """Return the file's one `regimen` heading; report none or several."""
    headers = [i for i in module.items if isinstance(i, ast.RegimenHeader)]
    if len(headers) > 1:
        sink.report(
            c.NOT_ONE_REGIMEN,
            headers[1].span,
            "a regimen file holds exactly one `regimen ID` heading",
            label="second regimen",
            help="start the file with `regimen my-regimen-id`",
        )
    elif not headers and not partial:
        sink.report(
            c.NOT_ONE_REGIMEN,
            module.span.at_start(),
            "this file has no `regimen ID` heading",
            label="expected `regimen ID` here",
            help="start the file with `regimen my-regimen-id`",
        )
    return headers[0] if headers else None


def _definitions(low: Lowering, module: ast.Module) -> None:
    """Read the file's `drug` aliases and blocks; report a name defined twice and library definitions."""
    for item in module.items:
        if isinstance(item, ast.DrugDecl):
            ref = ast.DrugRef(span=item.medicine.span, text=item.medicine.value, quoted=True)
            med = low.find(ref) or low.medicine(ref)
            if item.alias.text in low.aliases:
                low.sink.report(
                    c.DUPLICATE_DEFINITION,
                    item.alias.span,
                    f"`{item.alias.text}` is declared twice",
                    label="second declaration",
                )
            elif med is not None:
                low.aliases[item.alias.text] = med
                low.mentions.append(ir.Mention(written=item.alias, medicine=med))
        elif isinstance(item, ast.BlockDef):
            if item.name.text in low.blocks and item.name.text not in low.defs.blocks:
                low.sink.report(
                    c.DUPLICATE_DEFINITION,
                    item.name.span,
                    f"block `{item.name.text}` is defined twice",
                    label="second definition",
                )
            low.blocks[item.name.text] = item
        elif isinstance(item, ast.LibraryHeader | ast.MedicineDef | ast.FootnoteDef | ast.ValuesDef | ast.MeasureDef):
            misplaced(low.sink, item, "a library definition", "a regimen file", LIBRARY_HELP)


def _part(low: Lowering, node: ast.Part) -> ir.Part:
    starts = [i for i in node.items if isinstance(i, ast.StartRule)]
    for item in node.items:
        if isinstance(item, ast.ResponsesField):
            misplaced(
                low.sink,
                item,
                "`responses`",
                "a part",
                "name the vocabulary once, in the regimen heading: every part inherits it",
            )
    start = None
    if starts:
        rel = relation(low, starts[0].core, None)
        if rel is not None:
            start = ir.StartRule(span=starts[0].span, relation=rel, prose=starts[0].prose)
    return ir.Part(
        span=node.span,
        number=low.integer(node.number, "a part number", limits.PART_NUMBERS),
        title=node.title.value,
        meta=meta(
            low,
            node.span,
            (i for i in node.items if isinstance(i, ast.META_TYPES)),
            [("start", s.span) for s in starts],
        ),
        start=start,
        cycles=cycles(low, [i for i in node.items if isinstance(i, ast.Cycle | ast.Continuous)]),
        support=support(i for i in node.items if isinstance(i, ast.Support)),
        references=tuple(reference(low, i) for i in node.items if isinstance(i, ast.Reference)),
    )


def _parts(low: Lowering, module: ast.Module, header: ast.RegimenHeader) -> tuple[ir.Part, ...]:
    part_nodes = [i for i in module.items if isinstance(i, ast.Part)]
    top_cycles = [i for i in module.items if isinstance(i, ast.Cycle | ast.Continuous)]
    if part_nodes:
        for cyc in top_cycles:
            misplaced(
                low.sink, cyc, "a cycle outside its part", "a regimen with parts", "indent the cycle under its `part`"
            )
        return tuple(_part(low, p) for p in part_nodes)
    return (
        ir.Part(
            span=header.span,
            number=None,
            title=None,
            meta=ir.Meta(span=header.span),
            start=None,
            cycles=cycles(low, top_cycles),
            support=ir.Support(),
            references=(),
        ),
    )


def lower_regimen(module: ast.Module, defs: LibraryDefs, sink: Sink, *, partial: bool = False) -> ir.Regimen | None:
    """Lower one regimen file; report what cannot be resolved; None if there is no regimen.

    ``partial`` says that syntax errors removed lines from ``module``: no heading is then
    expected, and the regimen says so (the rules judge no missing field).
    """
    header = _header(module, sink, partial)
    if header is None:
        return None
    low = Lowering(sink, defs, header.id.text)
    _definitions(low, module)
    heading = meta(low, header.span, header.meta)
    named = next((f.name for f in header.meta if isinstance(f, ast.ResponsesField)), None)
    if named is not None:
        low.responses = responses(low, named)
    try:
        parts = _parts(low, module, header)
        lowered_plan = plan(low, (i for i in module.items if isinstance(i, ast.Plan)), parts)
        regimen = ir.Regimen(
            span=header.span,
            id=header.id.text,
            path=header.span.path,
            meta=heading,
            parts=parts,
            support=support(i for i in module.items if isinstance(i, ast.Support)),
            references=tuple(reference(low, i) for i in module.items if isinstance(i, ast.Reference)),
            plan=lowered_plan,
            aliases=tuple(sorted((k, v.name) for k, v in low.aliases.items())),
            id_span=header.id.span,
            partial=partial,
            mentions=tuple(low.mentions),
            links=tuple(low.links),
            prose=module.prose,
            headings=module.headings,
            responses=low.responses,
            groups=tuple(low.groups_named[name] for name in sorted(low.groups_named)),
            measures=tuple(low.measures_named[name] for name in sorted(low.measures_named)),
            thresholds=tuple((name, tuple(sorted(set(low.thresholds[name])))) for name in sorted(low.thresholds)),
        )
        bounded(regimen)
    except TooComplex as err:
        sink.report(c.TOO_COMPLEX, err.span, err.message, label="too complex to check", help=err.help)
        return None
    return regimen
