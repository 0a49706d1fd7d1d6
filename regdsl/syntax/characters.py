"""The characters a source may not hold, found before it is parsed.

A control character means a binary or damaged file; an invisible or bidirectional character
can make a regimen display other than it reads. ``refuse_hidden`` reports them where they are.
"""

from __future__ import annotations

import re

from regdsl.diagnostics import Sink
from regdsl.diagnostics import codes as c
from regdsl.source import SourceFile, describe_hidden, find_hidden, hidden_kind

__all__ = ["MAX_HIDDEN", "refuse_hidden"]

MAX_HIDDEN = 20  # invisible characters reported in one file


def refuse_hidden(source: SourceFile, sink: Sink) -> bool:
    """Report the characters a source may not hold (see ``find_hidden``); whether there are none.

    A control character means a binary or damaged file: the first is reported. Invisible and
    bidirectional characters are each reported where they are, the first ``MAX_HIDDEN`` of them.
    """
    shown: list[re.Match[str]] = []
    more = 0
    for match in find_hidden(source.text, source=True):
        if hidden_kind(match.group()) in {"control", "surrogate"}:
            sink.report(
                c.BINARY_CONTENT,
                source.span(match.start(), match.end()),
                f"the file holds {describe_hidden(match.group())}",
                label="control character",
                help="regimen files are plain text; is this the right file?",
            )
            return False
        if len(shown) < MAX_HIDDEN:
            shown.append(match)
        else:
            more += 1
    for match in shown:
        sink.report(
            c.INVISIBLE_CHARACTER,
            source.span(match.start(), match.end()),
            f"the file holds {describe_hidden(match.group())}",
            label="invisible character",
            help='it can make text display in another order than it is read ("12" as "21"); delete it'
            if hidden_kind(match.group()) == "bidi"
            else "delete it: no one can see it, and a word that holds it matches nothing",
            notes=(f"{more} more such characters follow, not shown",) if more and match is shown[-1] else (),
        )
    return not shown
