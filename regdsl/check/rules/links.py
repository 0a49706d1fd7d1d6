"""Library rules on the link graph: hand-overs in a loop, regimens no hand-over reaches, shared limits left short.

Each runs on the library's link graph (``regdsl.compile.links``, a networkx graph), built
only when a link joins two regimens of the run: the check of one regimen has no such link,
so it never imports networkx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from regdsl.check.context import LibraryContext
from regdsl.check.registry import library_rule
from regdsl.compile.links import Link, handover_loops, joined, library_graph, limit_groups, links
from regdsl.compile.phases import regimen_space
from regdsl.diagnostics import Diagnostic, Label, Severity

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["handover_loop", "limit_group_incomplete", "regimen_not_reached"]


def _graph(ctx: LibraryContext) -> nx.MultiDiGraph[str] | None:
    """Return the library's link graph, or None when no link joins two regimens of the run (nothing to find)."""
    return library_graph(ctx.regimens, ctx.infos) if joined(ctx.regimens) else None


def _link(ctx: LibraryContext, source: str, target: str, kind: str) -> Link | None:
    """Return the first link of ``kind`` that regimen ``source`` writes to ``target``."""
    regimen = ctx.regimens.get(source)
    if regimen is None:
        return None
    return next((k for k in links(regimen) if k.target == target and k.kind == kind), None)


def _bounded(ctx: LibraryContext, loop: list[str]) -> bool:
    """Whether every regimen of ``loop`` counts its cycles with all the others, for every patient."""
    for member in loop:
        others = set(loop) - {member}
        regimen = ctx.regimens[member]
        space = regimen_space(regimen, (limit.cond for limit in regimen.plan.limits))
        covered: set[int] = set()
        for limit in regimen.plan.limits:
            if others <= set(limit.counted_with):
                covered |= space.truth(limit.cond)
        if covered != space.all():
            return False
    return True


@library_rule("BRA010", "handover-loop", Severity.WARNING, "regimens hand patients over to each other in a loop")
def handover_loop(ctx: LibraryContext) -> Iterator[Diagnostic]:
    """Find regimens that hand patients over to each other in a loop that no shared cycle limit bounds.

    What it does: follows `continue with ID` from regimen to regimen, over the regimens
    checked together, and flags each loop (a regimen that hands over to one that, directly
    or further on, hands back to it; or one that continues with itself) unless every
    regimen of the loop states cycle limits counted with all the others whose conditions
    together cover every patient. It labels every hand-over of the loop.

    Why it matters: each regimen's page sends the patient on to the next, so a loop can be
    followed for ever: cycle limits stated in one regimen alone restart in the other. Only a
    limit that counts the cycles of the whole loop together ends it.

    Example:
        # my-regimen.reg
        if response in (CR, CRi): continue with my-regimen-cr
        # my-regimen-cr.reg
        if response is PR: continue with my-regimen

    Use instead: a hand-over that does not come back, or a limit shared by the loop:
        # in both regimens, each counted with the other
        at most 6 cycles counted with my-regimen-cr
    """
    graph = _graph(ctx)
    if graph is None:
        return
    for loop in handover_loops(graph):
        if _bounded(ctx, loop):
            continue
        steps = list(zip(loop, [*loop[1:], loop[0]], strict=True))
        found = [_link(ctx, source, target, "continue") for source, target in steps]
        spans = [link.span for link in found if link is not None and link.span is not None]
        if len(loop) == 1:
            message = (
                f"`{loop[0]}` hands patients over to itself, and no cycle limit of it covers every patient: "
                "a patient may start it again without end"
            )
        else:
            message = (
                f"the regimens hand patients over to each other in a loop ({' -> '.join([*loop, loop[0]])}), and "
                "no cycle limit counts the cycles of the loop together: a patient may go round it without end"
            )
        yield handover_loop.finding(
            spans[0],
            message,
            label="hands over",
            secondary=tuple(Label(span, "hands over") for span in spans[1:]),
            help="end the loop, or give every regimen of it a cycle limit counted with the others, for every patient",
        )


@library_rule(
    "BRA011",
    "regimen-not-reached",
    Severity.INFO,
    "a regimen that counts its cycles with others is reached by no hand-over",
)
def regimen_not_reached(ctx: LibraryContext) -> Iterator[Diagnostic]:
    """Find regimens of a shared course of cycles that no regimen hands patients over to.

    What it does: when every regimen of the library is checked, looks at each group of
    regimens that share cycle limits (`counted with`, in either direction: one course of
    treatment given in several regimens) and notes each regimen of a group that no regimen
    hands over to (`continue with`) and that hands over to no other regimen of its group: it
    neither starts the course nor is reached from it. A regimen that shares no limit is a
    starting regimen of its own, and is never noted.

    Why it matters: a regimen whose cycles count with another's is given after it, or before
    it; if nothing hands patients over to it, or from it, the pages never say when to move
    to it, and it is likely that a `continue with` is missing or names the wrong regimen.

    Example:
        # my-regimen.reg: no decision continues with my-regimen-cr
        at most 6 cycles counted with my-regimen-cr
        # my-regimen-cr.reg
        at most 6 cycles counted with my-regimen

    Use instead: the hand-over that leads to it:
        # my-regimen.reg
        after any cycle:
          if response in (CR, CRi): continue with my-regimen-cr
          otherwise: next cycle
    """
    if not set(ctx.infos) <= ctx.checked:  # a regimen left out of the run may hand over to any of them
        return
    graph = _graph(ctx)
    if graph is None:
        return
    handovers = [(u, v) for u, v, data in graph.edges(data=True) if data["kind"] == "continue" and u != v]
    reached = {v for _u, v in handovers}
    onward: dict[str, set[str]] = {}
    for u, v in handovers:
        onward.setdefault(u, set()).add(v)
    for group in limit_groups(graph):
        for member in group:
            regimen = ctx.regimens.get(member)
            if regimen is None or member in reached or onward.get(member, set()) & set(group):
                continue  # reached, or it starts the course
            others = [m for m in group if m != member]
            limit = next((k for k in links(regimen) if k.kind == "counted" and k.target in others), None)
            yield regimen_not_reached.finding(
                limit.span if limit is not None and limit.span is not None else regimen.span,
                f"no regimen hands patients over to `{member}`, and it hands over to none of the regimens it "
                f"counts its cycles with ({', '.join(f'`{m}`' for m in others)})",
                label="reached by no hand-over",
                help="add the `continue with` that leads to this regimen, or check the one that should",
            )


@library_rule(
    "BRA012",
    "limit-group-incomplete",
    Severity.WARNING,
    "a shared cycle limit leaves out a regimen whose cycles count with the others",
)
def limit_group_incomplete(ctx: LibraryContext) -> Iterator[Diagnostic]:
    """Find shared cycle limits that leave out a regimen of the group they count together.

    What it does: groups the regimens whose cycle limits count cycles together (`counted
    with`, followed from regimen to regimen: if A counts with B and B with C, the three share
    one course of cycles) and flags each shared limit that does not count every other
    regimen of its group. `limit-not-shared` (BRA007) checks the other side of each pair.

    Why it matters: a patient moves from regimen to regimen of the group. A limit that
    counts only some of them lets the cycles given in the others escape it, so the course
    can run longer than any limit allows.

    Example:
        # a.reg
        at most 6 cycles counted with b
        # b.reg
        at most 6 cycles counted with a, c
        # c.reg
        at most 6 cycles counted with b

    Use instead: count every regimen of the group in each shared limit:
        # a.reg
        at most 6 cycles counted with b, c
    """
    graph = _graph(ctx)
    if graph is None:
        return
    for group in limit_groups(graph):
        for member in group:
            regimen = ctx.regimens.get(member)
            if regimen is None:
                continue
            for limit in regimen.plan.limits:
                if not limit.counted_with:
                    continue
                missing = [m for m in group if m != member and m not in limit.counted_with]
                if not missing:
                    continue
                through = _through(ctx, group, missing[0])
                every = ", ".join(m for m in group if m != member)
                left_out = ", ".join(f"`{m}`" for m in missing)
                yield limit_group_incomplete.finding(
                    limit.span,
                    f"this limit (at most {limit.count} {limit.unit}) leaves out {left_out}, "
                    f"whose cycles count together with those of the regimens it names",
                    label="leaves out " + ", ".join(missing),
                    secondary=(through,) if through is not None else (),
                    help=f"count every regimen of the group: `counted with {every}`",
                )


def _through(ctx: LibraryContext, group: list[str], missing: str) -> Label | None:
    """Return a label at the first limit that joins ``missing`` to its group, for the finding to show."""
    for member in group:
        regimen = ctx.regimens.get(member)
        for link in links(regimen) if regimen is not None else ():
            if link.kind == "counted" and link.target != member and missing in (member, link.target) and link.span:
                return Label(link.span, f"`{link.source}` counts its cycles with `{link.target}` here")
    return None
