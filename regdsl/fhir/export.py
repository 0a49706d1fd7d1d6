"""``regdsl export --to fhir``: check regimens as ``build`` does, and write each as a FHIR R4 PlanDefinition.

Each regimen that checks is written (``--profile cca``, a ``CcaPlanDefinition``; ``core``, a
plain R4 ``PlanDefinition``) in the check's worker that compiled it, validated there
(``validate.invariants``, and ``validate.conforms`` for ``cca``) before anything is written:
a resource that fails is a bug, an internal error, and nothing is written. The bytes are
deterministic: elements in FHIR's order, lists in the regimen's order, no timestamps.

A folder of exports holds ``.regdsl-fhir``, the names of the files ``export`` wrote there;
an export replaces only those, and refuses a file of the same name that it did not write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from regdsl.check.config import Config
from regdsl.check.run import Outcome, run_configured
from regdsl.compile.library import Library
from regdsl.compile.passes import Compiled
from regdsl.fhir import cca, core
from regdsl.fhir.resources import dumps
from regdsl.fhir.validate import conforms, invariants
from regdsl.render.output import SiteError, check_page, replace_file
from regdsl.render.site import page_context
from regdsl.source import SourceFile, visible

__all__ = ["MANIFEST", "PROFILES", "ExportProblem", "export_fhir", "resource_of", "write_folder"]

PROFILES = ("cca", "core")
MANIFEST = ".regdsl-fhir"


class ExportProblem(RuntimeError):
    """Return a resource the exporter made breaks a FHIR rule: a bug in regdsl, not in the regimen."""


def resource_of(compiled: Compiled, source: SourceFile, library: Library, config: Config, profile: str) -> bytes:
    """Return the regimen's resource under ``profile``, validated, as the bytes of its file."""
    context = page_context(source, library, None, in_site=False, jurisdiction=config.jurisdiction)
    if profile == "cca":
        resource = cca.plan_definition(compiled, context)
        problems = invariants(resource) + conforms(resource)
    else:
        resource = core.plan_definition(compiled, context, source)
        problems = invariants(resource)
    if problems:
        listed = "; ".join(f"{path}: {message}" for path, message in problems[:5])
        raise ExportProblem(f"{compiled.regimen.id}: the {profile} resource breaks FHIR: {listed}")
    return dumps(resource)


@dataclass(frozen=True, slots=True)
class _Resource:
    """Return the product hook of an export: one regimen's resource file, made in the worker that checked it."""

    profile: str

    def __call__(self, compiled: Compiled, source: SourceFile, library: Library, config: Config) -> bytes:
        return resource_of(compiled, source, library, config, self.profile)


def export_fhir(
    sources: Sequence[Path],
    profile: str,
    *,
    strict: bool = False,
    jobs: int | None = None,
    config_file: Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
) -> tuple[Outcome, dict[str, bytes] | None]:
    """Check ``sources``; return the outcome and, if it passed, each regimen's file (``ID.json``) by name."""
    outcome = run_configured(
        sources,
        jobs=jobs,
        config_file=config_file,
        select=select,
        ignore=ignore,
        extend_select=extend_select,
        product=_Resource(profile),
    )
    if outcome.config_failed or outcome.failed(strict=strict):
        return outcome, None
    files: dict[str, bytes] = {}
    for regimen in sorted(outcome.regimens, key=lambda r: r.id):
        data = outcome.products.get(regimen.path)
        if not isinstance(data, bytes):  # a passed check has every regimen's product (Outcome.products)
            raise RuntimeError(f"{regimen.path}: the check passed but its resource was not made")
        files[f"{regimen.id}.json"] = data
    return outcome, files


def _written(folder: Path) -> set[str]:
    manifest = folder / MANIFEST
    if not manifest.is_file() or manifest.is_symlink():
        return set()
    return {line for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines() if line}


def write_folder(folder: Path, files: dict[str, bytes], kept: Iterable[tuple[str, Path]]) -> None:
    """Write ``files`` into ``folder`` (made if missing), replacing only files an earlier export wrote there.

    Raises ``SiteError`` for a folder that is a link or not a folder, or a file it must not replace.
    """
    if folder.is_symlink():
        raise SiteError(f"{visible(str(folder))}: is a symbolic link; name the folder itself")
    if folder.exists() and not folder.is_dir():
        raise SiteError(f"{visible(str(folder))}: exists and is not a folder")
    kept = list(kept)
    ours = _written(folder) if folder.exists() else set()
    for name in files:
        target = folder / name
        if (target.exists() or target.is_symlink()) and name not in ours:
            raise SiteError(
                f"{visible(str(target))}: exists and was not written by `regdsl export`; "
                "choose another folder, or move the file"
            )
        check_page(target, kept)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        replace_file(folder / name, data)
    listed = "".join(f"{name}\n" for name in sorted(ours | set(files)))
    replace_file(folder / MANIFEST, listed.encode("utf-8"))
