r"""A small TextMate tokeniser, with Python's ``re``, for the features the regdsl grammar uses.

It reads a grammar as VS Code does, line by line, each line ending in ``\n``: at each place
the rule that matches first (the earliest, then the first listed; a block's end before its
own patterns) is taken. Rules are ``match`` (with ``name`` and ``captures``), ``begin``/``end``
(with ``name``, ``contentName``, ``beginCaptures``, ``endCaptures``, ``captures`` and
``patterns``; ``\1`` in ``end`` is what the begin's first group matched), ``patterns`` alone,
and ``include`` of ``#item`` (the repository) and ``$self``. Anything else is refused, so that
a grammar using more than this is not read otherwise than VS Code would.

A rule that matches nothing where the tokeniser already stood with the same open blocks would
loop for ever: there it gives the next character the current scopes and goes on (``guarded``
counts how often, so that a test can ask for none).

``scopes(text)`` returns, for every character of ``text``, its scopes from the outermost
(the grammar's ``scopeName``) to the innermost.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

Rule = Mapping[str, Any]
Scopes = tuple[str, ...]

RULE_KEYS = frozenset({"name", "match", "begin", "end", "contentName", "patterns", "include", "comment"})
RULE_KEYS |= {"captures", "beginCaptures", "endCaptures"}
BACKREFERENCE = re.compile(r"\\([1-9])")


@dataclass
class _Block:
    """An open ``begin``/``end`` rule: its end (backreferences filled in) and the scopes inside it."""

    rule: Rule
    end: re.Pattern[str]
    outer: Scopes  # the scopes around the block, with its ``name``
    inner: Scopes  # ``outer`` with its ``contentName``


@dataclass
class Tokeniser:
    """The tokeniser of one grammar."""

    grammar: Mapping[str, Any]
    guarded: int = 0
    _compiled: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def regex(self, pattern: str) -> re.Pattern[str]:
        """Return ``pattern`` compiled, once."""
        found = self._compiled.get(pattern)
        if found is None:
            found = self._compiled[pattern] = re.compile(pattern)
        return found

    def rules(self, patterns: list[Rule], seen: frozenset[int] = frozenset()) -> Iterator[Rule]:
        """Yield the ``match`` and ``begin`` rules of ``patterns``, includes followed, in order."""
        for rule in patterns:
            unknown = set(rule) - RULE_KEYS
            if unknown:
                raise ValueError(f"a rule key this tokeniser does not read: {sorted(unknown)}")
            if "include" in rule:
                target = rule["include"]
                if target == "$self":
                    included = {"patterns": self.grammar["patterns"]}
                elif target.startswith("#"):
                    included = self.grammar["repository"][target[1:]]
                else:
                    raise ValueError(f"an include this tokeniser does not read: {target}")
                if id(included) not in seen:  # an include of itself adds nothing
                    yield from self.rules([included], seen | {id(included)})
            elif "match" in rule or "begin" in rule:
                yield rule
            elif "patterns" in rule:
                yield from self.rules(rule["patterns"], seen)
            else:
                raise ValueError(f"a rule with nothing to match: {sorted(rule)}")

    def scopes(self, text: str) -> list[Scopes]:
        """Return the scopes of every character of ``text``, outermost first."""
        root: Scopes = (self.grammar["scopeName"],)
        stack: list[_Block] = []
        out: list[Scopes] = []
        for line in text.split("\n"):
            body = line.removesuffix("\r")
            scoped = self._line(body + "\n", root, stack)
            out.extend(scoped[: len(body)])
            out.extend([root] * (len(line) - len(body) + 1))  # the "\r" and the line's end
        del out[len(text) :]
        return out

    def _line(self, line: str, root: Scopes, stack: list[_Block]) -> list[Scopes]:
        scoped: list[Scopes] = [root] * len(line)
        pos = 0
        seen: set[tuple[int, int]] = set()  # (place, blocks open) where a rule matched nothing
        while pos < len(line):
            block = stack[-1] if stack else None
            current = block.inner if block else root
            candidates: list[tuple[re.Pattern[str], Rule | None]] = []
            if block is not None:
                candidates.append((block.end, None))
                patterns = cast(list[Rule], block.rule.get("patterns", []))
            else:
                patterns = cast(list[Rule], self.grammar["patterns"])
            candidates.extend((self.regex(r["match"] if "match" in r else r["begin"]), r) for r in self.rules(patterns))
            best: tuple[re.Match[str], Rule | None] | None = None
            for regex, rule in candidates:
                found = regex.search(line, pos)
                if found is not None and (best is None or found.start() < best[0].start()):
                    best = (found, rule)
            if best is None:
                scoped[pos:] = [current] * (len(line) - pos)
                break
            found, rule = best
            scoped[pos : found.start()] = [current] * (found.start() - pos)
            if found.end() == found.start():
                if (found.start(), len(stack)) in seen:
                    self.guarded += 1
                    scoped[found.start()] = current
                    pos = found.start() + 1
                    continue
                seen.add((found.start(), len(stack)))
            if rule is None:  # the open block ends
                assert block is not None
                self._paint(scoped, found, block.outer, block.rule.get("endCaptures", block.rule.get("captures")))
                stack.pop()
            elif "match" in rule:
                self._paint(scoped, found, _add(current, rule.get("name")), rule.get("captures"))
            else:
                outer = _add(current, rule.get("name"))
                end = BACKREFERENCE.sub(functools.partial(_group, found), rule["end"])
                stack.append(_Block(rule, self.regex(end), outer, _add(outer, rule.get("contentName"))))
                self._paint(scoped, found, outer, rule.get("beginCaptures", rule.get("captures")))
            pos = found.end()
        return scoped

    @staticmethod
    def _paint(scoped: list[Scopes], found: re.Match[str], base: Scopes, captures: Mapping[str, Rule] | None) -> None:
        """Give the matched text ``base``, and each captured group its name inside the groups holding it."""
        for i in range(found.start(), found.end()):
            scoped[i] = base
        for key in sorted(captures or {}, key=int):  # groups open in their number's order
            name = (captures or {})[key].get("name")
            start, end = found.span(int(key))
            for i in range(max(start, 0), end):
                scoped[i] = _add(scoped[i], name)


def _group(begin: re.Match[str], reference: re.Match[str]) -> str:
    """Return what the group of ``begin`` a backreference names matched, as a pattern."""
    return re.escape(begin.group(int(reference.group(1))) or "")


def _add(scopes: Scopes, name: str | None) -> Scopes:
    return (*scopes, name) if name else scopes
