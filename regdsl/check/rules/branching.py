"""Branching rules: the phase graph's reachability and bounds, decision guards, links between regimens.

Guards range over a small finite patient state (``phases.Space``: the response, MRD, HSCT and
the groups a decision point's conditions name), so coverage, overlap and the equivalence of
two conditions are decided exactly by evaluating them in every state, never by sampling.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from regdsl.check.context import LibraryContext, RuleContext
from regdsl.check.registry import library_rule, rule
from regdsl.compile.phases import PhaseGraph, PhaseId, Space, Transition, regimen_space, resolved
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir
from regdsl.source import Span

__all__ = [
    "choice_incomplete",
    "choice_overlap",
    "condition_never_holds",
    "guards_incomplete",
    "guards_overlap",
    "limit_not_shared",
    "link_to_retired",
    "superseded_by_not_current",
    "superseded_chain_broken",
    "unbounded_repeat",
    "unreachable_phase",
]

RETIRED = frozenset({ir.Status.DISCONTINUED.value, ir.Status.SUPERSEDED.value})


@rule("BRA002", "unreachable-phase", Severity.ERROR, "no path from the start of treatment reaches a cycle group")
def unreachable_phase(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find cycle groups that no path through the plan reaches.

    What it does: builds the phase graph (cycle groups, parts and linked regimens joined
    by the plan's transitions) and flags every cycle group that no path from the start of
    treatment reaches, whatever the patient's response.

    Why it matters: a cycle nobody can be given is either dead text or, more often, a
    sign that a decision sends patients to the wrong place: the cycles meant for them are
    skipped.

    Example:
        cycle 1: 21 days
          ...
        cycle 2: 21 days
          ...
        cycle 3: 21 days
          ...
        plan
          after cycle 1:
            if response is CR: go to cycle 3
            otherwise: stop

    Use instead: a plan that leads to every cycle group (`otherwise: next cycle`), or
    remove the cycles no patient is given.
    """
    phases = ctx.compiled.phases
    for node in phases.unreachable():
        phase = phases.phase(node)
        if phase.span is None:
            continue
        yield unreachable_phase.finding(
            phase.span,
            f'no patient reaches "{phase.label}": no path from the start of treatment leads here',
            label="unreachable",
            help="check the decisions before it (`go to cycle`, `stop`, `continue with`), or remove these cycles",
        )


def _loop_edges(phases: PhaseGraph) -> list[tuple[PhaseId, Transition]]:
    """Return the transitions that close a loop, with their targets, in source order.

    Every loop lies within one strongly connected component and contains a transition back
    to a phase written earlier (or to itself); every such transition inside a component
    lies on a loop. Components are found in linear time, never by listing every loop.
    """
    order = {node: index for index, (node, _) in enumerate(phases.groups())}
    components = phases.components()
    component = {node: k for k, members in enumerate(components) for node in members}
    by_component: list[list[tuple[PhaseId, Transition]]] = [[] for _ in components]
    for u, v, transition in phases.transitions:
        k = component.get(u)
        if k is None or component.get(v) != k or order.get(v, -1) > order.get(u, -1):
            continue
        if u == v and transition.kind == "repeat":
            group = phases.phase(u).group
            if group is not None and not group.open_ended:
                continue  # a closed group repeats only its own count
        by_component[k].append((v, transition))
    found = [item for items in by_component for item in items]
    found.sort(key=lambda item: (item[1].span.start if item[1].span else -1, item[0]))
    return found


def _limits_cover(regimen: ir.Regimen) -> tuple[Space, tuple[int, ...]]:
    """Return the limits' patient states, and those no cycle limit applies to (none when they cover every state)."""
    space = regimen_space(regimen, (limit.cond for limit in regimen.plan.limits))
    covered: set[int] = set()
    for limit in regimen.plan.limits:
        covered |= space.truth(limit.cond)
    return space, tuple(sorted(space.all() - covered))


@rule("BRA003", "unbounded-repeat", Severity.ERROR, "cycles may repeat without end")
def unbounded_repeat(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find loops in the plan that nothing bounds.

    What it does: finds every loop of the phase graph (an open-ended group's `Cycle 1 (and
    all further cycles)`, or a `go to cycle` back to an earlier cycle) and flags it unless
    something ends it: a closed group's own count (`cycles 2 to 3` repeats at most twice),
    a `stop if` rule, or `at most N cycles` limits whose conditions together cover every
    patient (every response, MRD result and HSCT plan).

    Why it matters: a prescribing system that follows the plan would offer further cycles
    for ever. Open-ended treatment is real ("until disease progression or unacceptable
    toxicity"), but then the regimen must say what ends it.

    Example:
        cycle 1 and all further cycles: 28 days
          alectinib 600 mg flat oral twice daily days 1 to 28

    Use instead: state the bound:
        plan
          stop if response is PD
    """
    regimen = ctx.regimen
    plan = regimen.plan
    if plan.stops:
        return
    space, uncovered = _limits_cover(regimen)
    if not uncovered:
        return
    phases = ctx.compiled.phases
    reported: set[tuple[int, int]] = set()
    for target, transition in _loop_edges(phases):
        phase = phases.phase(target)
        span = transition.span or phase.span
        if span is None:
            continue
        key = (span.start, span.end)
        if key in reported:
            continue
        reported.add(key)
        if transition.kind == "repeat":
            what = f'"{phase.label}" repeats'
        else:
            what = f'this goes back to "{phase.label}", so cycles repeat'
        notes = []
        if plan.limits:
            notes.append(
                "the cycle limits leave out some patients, for example one with " + space.describe(uncovered[0])
            )
        secondary: tuple[Label, ...] = ()
        if transition.kind != "repeat" and phase.span is not None:
            secondary = (Label(phase.span, "repeated from here"),)
        yield unbounded_repeat.finding(
            span,
            f"{what} without end: no stop rule or cycle limit bounds {'them' if transition.kind != 'repeat' else 'it'}",
            label="no bound",
            help="add `stop if ...` to the plan, or limits (`at most N cycles`, `at most N years`) covering everyone",
            notes=tuple(notes),
            secondary=secondary,
        )


@rule("BRA004", "guards-incomplete", Severity.ERROR, "a decision leaves some patients without a branch")
def guards_incomplete(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find decisions whose guards leave a patient with no branch to take.

    What it does: at every decision of the plan without an `otherwise` branch, evaluates
    the guards in every patient state (response CR, CRi, PR, SD or PD; MRD negative or
    positive; proceeding to HSCT or not) and flags the decision if some state satisfies
    none of them. It names one such patient.

    Why it matters: a patient who fits no branch has no plan: the regimen says nothing
    about what to give them next, and each prescriber will guess differently.

    Example:
        after cycle 1:
          if response in (CR, CRi): continue with my-regimen-cr
          if response is PD: stop

    Use instead: a branch for every patient, most simply with `otherwise`:
        after cycle 1:
          if response in (CR, CRi): continue with my-regimen-cr
          otherwise: next cycle
    """
    for decision in ctx.regimen.plan.decisions:
        conds = [branch.cond for branch in decision.branches]
        if None in conds or not resolved(ctx.regimen, conds):
            continue
        space = regimen_space(ctx.regimen, (b.cond for b in decision.branches), plan=decision.kind != "start")
        covered: set[int] = set()
        for branch in decision.branches:
            covered |= space.truth(branch.cond)
        missing = sorted(space.all() - covered)
        if not missing:
            continue
        others = len(missing) - 1
        yield guards_incomplete.finding(
            decision.span,
            f"no branch of this decision applies to a patient with {space.describe(missing[0])}",
            label="some patients have no branch",
            help="add `otherwise: ...`, or a branch for the patients left out",
            notes=(f"{others} other patient state{'s' if others != 1 else ''} also fit no branch",) if others else (),
        )


@rule("BRA005", "guards-overlap", Severity.WARNING, "two branches of a decision apply to the same patient")
def guards_overlap(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find two guards of one decision that both hold for some patient.

    What it does: for every pair of guarded branches of a decision that lead to different
    places, evaluates both guards in every patient state and flags the later branch if
    some patient satisfies both. It names one such patient.

    Why it matters: when two branches apply, the plan says two different things about the
    same patient; a reader cannot tell which was meant.

    Example:
        after cycle 2:
          if response in (CR, CRi): continue with my-regimen-cr
          if MRD negative: stop
          otherwise: next cycle

    Use instead: guards that exclude each other:
        after cycle 2:
          if response in (CR, CRi): continue with my-regimen-cr
          if MRD negative and not response in (CR, CRi): stop
          otherwise: next cycle
    """
    for decision in ctx.regimen.plan.decisions:
        # For each patient state, the first earlier branch that applies, and the first that applies
        # and leads elsewhere than that one: the first earlier branch leading elsewhere than a later
        # one is always one of the two, so no pair of branches is compared.
        first: dict[int, ir.Branch] = {}
        other: dict[int, ir.Branch] = {}
        order = {id(b): i for i, b in enumerate(decision.branches)}
        if not resolved(ctx.regimen, (branch.cond for branch in decision.branches)):
            continue
        space = regimen_space(ctx.regimen, (b.cond for b in decision.branches), plan=decision.kind != "start")
        for later in decision.branches:
            if later.cond is None:
                continue
            truth = space.truth(later.cond)
            goes = (later.action, later.target)
            candidates = []
            for state in truth:
                for earlier in (first.get(state), other.get(state)):
                    if earlier is not None and (earlier.action, earlier.target) != goes:
                        candidates.append(earlier)
                        break
            for state in truth:
                if state not in first:
                    first[state] = later
                elif state not in other and (first[state].action, first[state].target) != goes:
                    other[state] = later
            if not candidates:
                continue
            earlier = min(candidates, key=lambda b: order[id(b)])
            both = sorted(space.truth(earlier.cond) & truth)
            yield guards_overlap.finding(
                later.span,
                f"this branch and an earlier one both apply to a patient with {space.describe(both[0])}",
                label="overlaps an earlier branch",
                secondary=(Label(earlier.span, "also applies"),),
                help="make the guards exclude each other, so that each patient has one branch",
            )


def _choices(ctx: RuleContext) -> Iterator[tuple[ir.Choice, Space]]:
    """Yield each choice of lines written (not those `same as` copies), with its patient states."""
    seen: set[Span] = set()
    for group in ctx.regimen.cycles():
        for choice in group.choices:
            conds = [b.cond for b in choice.branches]
            if choice.key in seen or not resolved(ctx.regimen, conds):
                continue
            seen.add(choice.key)
            yield choice, regimen_space(ctx.regimen, conds, plan=False)


@rule("BRA013", "choice-overlap", Severity.ERROR, "two branches of a choice of lines apply to one patient")
def choice_overlap(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find `by` headings (or `if` blocks joined with `otherwise`) that both apply to one patient.

    What it does: evaluates the branches of each `if` and `by` block of a cycle in every
    patient state its conditions distinguish (each cell of a measure cut by the regimen's own
    thresholds, each value of a group) and flags a branch that applies to a patient an
    earlier branch of the same block applies to. It names one such patient.

    Why it matters: each branch gives its own lines. A patient in two branches is given
    both: two doses where one was meant.

    Example:
        by CrCl:
          at least 50 mL/min:
            capecitabine 1250 mg/m2 oral twice daily days 1 to 14
          30 to 50 mL/min:
            capecitabine 950 mg/m2 oral twice daily days 1 to 14

    Use instead: headings that exclude each other (`over 50 mL/min` and `30 to 50 mL/min`).
    """
    for choice, space in _choices(ctx):
        earlier: list[tuple[ir.ChoiceBranch, frozenset[int]]] = []
        for branch in choice.branches:
            if branch.cond is None:
                continue
            truth = space.truth(branch.cond)
            other = next(((b, truth & t) for b, t in earlier if truth & t), None)
            earlier.append((branch, truth))
            if other is None:
                continue
            first, both = other
            yield choice_overlap.finding(
                branch.span,
                f"this branch and an earlier one both apply to a patient with {space.describe(min(both))}: "
                "they would be given the lines of both",
                label="overlaps an earlier branch",
                secondary=(Label(first.span, "also applies"),),
                help="make the headings exclude each other, so that each patient has one branch",
            )


@rule("BRA014", "choice-incomplete", Severity.WARNING, "a `by` block leaves some patients without a branch")
def choice_incomplete(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find `by` blocks without `otherwise` whose headings leave some patient out.

    What it does: evaluates the headings of each `by` block without `otherwise` in every
    patient state (each cell of the measure cut by the regimen's own thresholds, each value of
    the group) and flags the block if some patient meets none. It names one. A lone `if`
    block is optional by nature and never incomplete.

    Why it matters: a patient in no branch is given none of the block's lines, and the page
    says nothing about them: `CrCl 51 to 80` and `30 to 50` leave a CrCl of 50.5 out.

    Example:
        by CrCl:
          51 to 80 mL/min:
            capecitabine 1250 mg/m2 oral twice daily days 1 to 14
          30 to 50 mL/min:
            capecitabine 950 mg/m2 oral twice daily days 1 to 14

    Use instead: headings that meet (`over 50 mL/min`), and `otherwise:` for the rest.
    """
    for choice, space in _choices(ctx):
        if choice.kind != "by" or any(b.cond is None for b in choice.branches):
            continue
        covered: set[int] = set()
        for branch in choice.branches:
            covered |= space.truth(branch.cond)
        missing = sorted(space.all() - covered)
        if missing:
            yield choice_incomplete.finding(
                choice.span,
                f"no branch of this block applies to a patient with {space.describe(missing[0])}",
                label="some patients have no branch",
                help="add `otherwise:` with what they are given, or a heading for them",
            )


@rule("BRA015", "condition-never-holds", Severity.WARNING, "a condition no patient can meet")
def condition_never_holds(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find branches, limits, stop rules and `proceed if` gates whose condition no patient meets.

    What it does: evaluates each condition in every patient state of its decision point
    (each response, MRD result and HSCT plan, each value of the groups it names, each cell
    of the measures it compares, cut by the regimen's own thresholds) and flags one that
    holds in none: a contradiction such as `CrCl under 30 mL/min and CrCl over 50 mL/min`.
    A gate no patient passes is an error: no one could ever be given the cycle.

    Why it matters: a condition that never holds is a slip (a threshold the wrong way
    round, `and` for `or`): the branch is never taken, the limit never applies, the stop
    rule never stops treatment, and the reader believes it does.

    Example:
        proceed if ANC at least 1.5 x10^9/L and ANC under 1 x10^9/L

    Use instead: the condition that was meant:
        proceed if ANC at least 1.5 x10^9/L and platelets at least 100 x10^9/L
    """
    regimen = ctx.regimen
    plan = regimen.plan
    points: list[tuple[tuple[ir.Cond | None, ...], list[tuple[Span, ir.Cond | None, str]]]] = [
        (tuple(b.cond for b in d.branches), [(b.span, b.cond, "this branch is never taken") for b in d.branches])
        for d in plan.decisions
    ]
    for written, what in ((plan.limits, "this limit never applies"), (plan.stops, "this rule never stops treatment")):
        points.append((tuple(x.cond for x in written), [(x.span, x.cond, what) for x in written]))
    for choice, _space in _choices(ctx):
        conds = tuple(b.cond for b in choice.branches)
        points.append((conds, [(b.span, b.cond, "this branch is never given") for b in choice.branches]))
    gates = [gate for group in regimen.cycles() for gate in group.gates]
    points += [((g.cond,), [(g.span, g.cond, _NO_ONE)]) for g in gates]
    for conds, items in points:
        if not resolved(regimen, conds):
            continue
        space = regimen_space(regimen, conds)
        for span, cond, what in items:
            if cond is None or space.truth(cond):
                continue
            finding = condition_never_holds.finding(
                span,
                f"no patient meets this condition: {what}",
                label="never holds",
                help="check the thresholds and `and`/`or`: write the condition that was meant",
            )
            yield dataclasses.replace(finding, severity=Severity.ERROR) if what is _NO_ONE else finding


_NO_ONE = "no patient could ever be given this cycle"  # a gate's: an error


def _status(ctx: RuleContext, target: str) -> tuple[str | None, str | None]:
    """Return a linked regimen's status and successor (the lowered regimen's own when it links to itself)."""
    regimen = ctx.regimen
    if target == regimen.id:
        return regimen.status.value, regimen.meta.superseded_by
    info = ctx.infos.get(target)
    if info is None:
        return None, None
    return info.status, info.superseded_by


def _links(plan: ir.Plan) -> Iterator[tuple[str, Span, str]]:
    """Yield each regimen the plan links to, where its id is written, and how it links."""
    for decision in plan.decisions:
        for branch in decision.branches:
            if branch.action == "continue" and branch.target:
                yield branch.target, branch.target_span or branch.span, "continue with"
    for limit in plan.limits:
        for word in limit.counted_words:
            yield word.text, word.span, "counted with"


@rule("BRA006", "link-to-retired-regimen", Severity.WARNING, "a link names a discontinued or superseded regimen")
def link_to_retired(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find links to regimens that are discontinued or superseded.

    What it does: flags `continue with ID` and `counted with ID` when the regimen `ID`
    has status `discontinued` or `superseded` (and says by what, when known).

    Why it matters: a patient handed over to a retired regimen is treated on a schedule
    the library has withdrawn, often for a safety reason.

    Example:
        # old-regimen-cr.reg says: status superseded by new-regimen-cr
        if response in (CR, CRi): continue with old-regimen-cr

    Use instead: link to the regimen that replaced it:
        if response in (CR, CRi): continue with new-regimen-cr
    """
    for target, where, how in _links(ctx.regimen.plan):
        status, successor = _status(ctx, target)
        if status not in RETIRED:
            continue
        if status == ir.Status.SUPERSEDED.value:
            message = f"`{how} {target}` links to a superseded regimen"
            message += f", replaced by `{successor}`" if successor else ""
            help = f"link to `{successor}` instead" if successor else "link to the regimen that replaced it"
        else:
            message = f"`{how} {target}` links to a discontinued regimen"
            help = "link to a current regimen, or remove the link"
        yield link_to_retired.finding(where, message, label=status, help=help)


CURRENT = frozenset({ir.Status.PUBLISHED.value, ir.Status.PROVISIONAL.value})


def _successors(ctx: RuleContext) -> tuple[list[str], str | None]:
    """Follow ``superseded by`` from this regimen: the ids passed through, and the status it ends at.

    The walk ends at the first regimen that is not superseded (its status), at a missing one
    (None), or where it comes back to a regimen already passed (``"loop"``). It visits each
    regimen at most once.
    """
    regimen = ctx.regimen
    chain: list[str] = []
    seen = {regimen.id}
    target = regimen.meta.superseded_by
    while target is not None:
        chain.append(target)
        if target in seen:
            return chain, "loop"
        seen.add(target)
        info = ctx.infos.get(target)
        if info is None:
            return chain, None
        if info.status != ir.Status.SUPERSEDED.value:
            return chain, info.status
        target = info.superseded_by
    return chain, ir.Status.SUPERSEDED.value  # a superseded regimen that names no successor (STR002)


def _by_span(ctx: RuleContext) -> Span:
    """Return the span of the id after ``superseded by`` on the status line (the header if there is none)."""
    return ctx.regimen.meta.superseded_span or ctx.regimen.span


@rule(
    "BRA008",
    "superseded-chain-broken",
    Severity.ERROR,
    "`superseded by` leads nowhere: to itself, round a loop, or to a missing regimen",
)
def superseded_chain_broken(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find replacements that lead nowhere.

    What it does: follows `status superseded by ID` from regimen to regimen, as the page's
    "Replaced by" links do, and flags the status line when the chain names the regimen
    itself, comes back to a regimen it has passed, or names a regimen that is not in the
    library further along (a first link to a missing regimen is `BRA001`).

    Why it matters: a superseded regimen's page sends the clinician to its replacement. A
    replacement that is the regimen itself, a loop, or a missing page leaves the clinician
    with a withdrawn regimen and nowhere to go.

    Example:
        regimen old-regimen
          status superseded by old-regimen

    Use instead: name the regimen that replaces it, which is itself current:
        regimen old-regimen
          status superseded by new-regimen
    """
    chain, end = _successors(ctx)
    if not chain or end not in {"loop", None} or (end is None and len(chain) == 1):
        return
    first = chain[0]
    if end == "loop":
        route = " -> ".join([ctx.regimen.id, *chain])
        message = (
            f"`{ctx.regimen.id}` is superseded by itself"
            if first == ctx.regimen.id
            else f"the replacements go round in a loop: {route}"
        )
    else:
        message = f"the replacement `{first}` leads to `{chain[-1]}`, which is not in this library"
    yield superseded_chain_broken.finding(
        _by_span(ctx),
        message,
        label="no current replacement",
        help="name the regimen that replaces this one, ending at a published or provisional regimen",
    )


@rule(
    "BRA009",
    "superseded-by-not-current",
    Severity.WARNING,
    "`superseded by` ends at a draft or discontinued regimen, not a current one",
)
def superseded_by_not_current(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find replacements that end at a regimen which is not current.

    What it does: follows `status superseded by ID` as BRA008 does and, when the chain ends,
    flags the status line unless the regimen it ends at is current: `published` or
    `provisional`. A chain that ends at a `draft` or `discontinued` regimen is reported.

    Why it matters: the page of a superseded regimen tells the clinician to use its
    replacement. A replacement that is still a draft has not been reviewed for use; one
    that is discontinued has been withdrawn in turn. Either way the clinician is sent to a
    regimen that is not for use.

    Example:
        regimen old-regimen
          status superseded by new-regimen
        # new-regimen.reg says: status draft

    Use instead: publish the replacement first (`status published` or `provisional`), or
    keep this regimen current until it is.
    """
    chain, end = _successors(ctx)
    if not chain or end in CURRENT or end in {"loop", None, ir.Status.SUPERSEDED.value}:
        return
    route = " -> ".join(chain)
    yield superseded_by_not_current.finding(
        _by_span(ctx),
        f"the replacement {route} ends at a {end} regimen, not a current one",
        label=f"ends at a {end} regimen",
        help="make the replacement published or provisional first, or keep this regimen current until then",
    )


@dataclass(frozen=True, slots=True)
class _Shared:
    """One regimen's limits counted with another: (count, unit, truth set), and the first of each."""

    exact: set[tuple[int, ir.PlanUnit, frozenset[int]]]
    by_count: dict[tuple[int, ir.PlanUnit], ir.Limit]
    by_truth: dict[frozenset[int], ir.Limit]


@library_rule("BRA007", "limit-not-shared", Severity.WARNING, "a shared cycle limit is not stated by the other regimen")
def limit_not_shared(ctx: LibraryContext) -> Iterator[Diagnostic]:
    """Find cycle limits counted with another regimen that the other regimen does not state.

    What it does: for `at most N cycles [if COND] counted with X`, looks in regimen `X`
    (when it is checked in the same run) for the same limit in reverse: `at most N cycles`
    with an equivalent condition (true for exactly the same patients), counted with this
    regimen. It flags the limit when `X` has none.

    Why it matters: a limit counted across two regimens caps the cycles of both together.
    If only one side states it, a patient who moves to the other regimen can be given
    more cycles than the limit allows, because that regimen's page does not say so.

    Example:
        # my-regimen.reg
        at most 6 cycles if not proceeding to HSCT counted with my-regimen-cr
        # my-regimen-cr.reg has no such limit

    Use instead: state the shared limit in both regimens:
        # my-regimen-cr.reg
        at most 6 cycles if not proceeding to HSCT counted with my-regimen
    """
    # Each regimen's limits by the regimen they count with: count and truth set, and the first
    # with each count or truth set, so that no limit is compared with every limit of the other.
    # Two regimens' limits are compared over the states of both (their responses and groups).
    spaces: dict[tuple[str, str], Space] = {}

    def truth(lim: ir.Limit, regimen_id: str, other_id: str) -> frozenset[int]:
        key = (min(regimen_id, other_id), max(regimen_id, other_id))
        if key not in spaces:
            a, b = ctx.regimens[key[0]], ctx.regimens[key[1]]
            spaces[key] = regimen_space(a, (x.cond for r in (a, b) for x in r.plan.limits), b)
        return spaces[key].truth(lim.cond)

    shared: dict[tuple[str, str], _Shared] = {}
    for regimen_id in sorted(ctx.regimens):
        for lim in ctx.regimens[regimen_id].plan.limits:
            for target in dict.fromkeys(lim.counted_with):
                if target not in ctx.regimens:
                    continue
                truth_of = truth(lim, regimen_id, target)
                entry = shared.setdefault((regimen_id, target), _Shared(set(), {}, {}))
                entry.exact.add((lim.count, lim.unit, truth_of))
                entry.by_count.setdefault((lim.count, lim.unit), lim)
                entry.by_truth.setdefault(truth_of, lim)
    for regimen_id in sorted(ctx.regimens):
        regimen = ctx.regimens[regimen_id]
        for limit in regimen.plan.limits:
            for other_id in limit.counted_with:
                other = ctx.regimens.get(other_id)
                if other is None or other_id == regimen_id:
                    continue
                truth_of = truth(limit, regimen_id, other_id)
                back = shared.get((other_id, regimen_id), _Shared(set(), {}, {}))
                if (limit.count, limit.unit, truth_of) in back.exact:
                    continue
                near_count = back.by_count.get((limit.count, limit.unit))
                candidates = [lim for lim in (near_count, back.by_truth.get(truth_of)) if lim]
                near = sorted(candidates, key=lambda lim: lim.span.start)
                if near:
                    secondary = (Label(near[0].span, f"the limit in `{other_id}` differs"),)
                else:
                    secondary = (Label(other.span, f"no limit here counted with {regimen_id}"),)
                yield limit_not_shared.finding(
                    limit.span,
                    f"this limit (at most {limit.count} {limit.unit}) counts "
                    f"{'cycles' if limit.unit == 'cycles' else 'time'} together with `{other_id}`, "
                    f"but `{other_id}` states no such limit counted with `{regimen_id}`",
                    label="one-sided limit",
                    secondary=secondary,
                    help=f"add the same limit, with an equivalent condition, to `{other_id}`",
                )
