"""Lowering: syntax nodes to the resolved regimen model.

Resolves medicine names (aliases, the medicine table), units, routes, frequencies and
supportive-care factors to coded terms; expands day ranges, ``same as`` and shared blocks;
turns the plan's conditions into IR; and reports, at its source line, only what it cannot
resolve: an unknown name, a number that is not one, a date that does not exist, a limit
refused, a structure it cannot build. It judges nothing else (the rules do, over the IR,
which keeps each word as written where a rule needs it). It never raises on user input:
what cannot be lowered is reported and left out.

One module per thing lowered: ``words`` (numbers, units, medicine names, links), ``heading``
(fields, status, terms), ``administrations``, ``cycles``, ``sections`` (support, references),
``plan``, ``regimen`` (the file) and ``library`` (``library.reg``).
"""

from regdsl.compile.lower.library import lower_library
from regdsl.compile.lower.regimen import lower_regimen
from regdsl.compile.lower.words import LibraryDefs

__all__ = ["LibraryDefs", "lower_library", "lower_regimen"]
