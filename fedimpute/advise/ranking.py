"""The ranking: one row per (service, panel), every number behind it, the reasons in words, best first.

Rows are ordered by the expected mean R² of the cohort's common variants
(:mod:`fedimpute.advise.expected`), from the local evidence where the panel's sites are known
here, else from the server's QC-only statistics; a pair the server would refuse (more than 100
strand flips) goes after those it would take, and a pair with no evidence at all goes last.  The
JSON keys of the CLI contract (``service, panel_id, overlap, strand_flips, allele_switches,
af_correlation, excluded_chunks, expected_r2, reasons``) come first; the rest are extensions.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fedimpute.advise.compare import LocalEvidence
from fedimpute.advise.expected import expected_r2, expected_well_imputed
from fedimpute.advise.registry import Candidate
from fedimpute.advise.remote import RemoteEvidence

__all__ = ["Advice", "Recommendation", "STRAND_FLIP_LIMIT"]

T = TypeVar("T")
STRAND_FLIP_LIMIT = 100  # more stops the job on every Cloudgene server
ALLELE_SWITCH_LIMIT = 100  # more stops it on Michigan 2's panels


@dataclass
class Recommendation:
    """One candidate with its evidence; :meth:`judge` fills ``expected_r2``, ``blocked`` and the reasons."""

    candidate: Candidate
    local: LocalEvidence | None = None
    remote: RemoteEvidence | None = None
    notes: list[str] = field(default_factory=list)  # why local evidence is missing, population notes
    expected_r2: float | None = None
    expected_well: float | None = None  # the share of common variants expected with r² >= 0.8
    blocked: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.candidate.service

    @property
    def panel_id(self) -> str:
        return self.candidate.panel_id

    def _pick(self, local: T, remote: T) -> T:
        return local if self.local is not None else remote

    @property
    def overlap(self) -> float | None:
        return self._pick(self.local.overlap if self.local else None, self.remote.overlap if self.remote else None)

    @property
    def strand_flips(self) -> int | None:
        return self._pick(self.local.strand_flips if self.local else None,
                          self.remote.strand_flips if self.remote else None)

    @property
    def allele_switches(self) -> int | None:
        return self._pick(self.local.allele_switches if self.local else None,
                          self.remote.allele_switches if self.remote else None)

    @property
    def excluded_chunks(self) -> int | None:
        return self._pick(self.local.excluded_chunks if self.local else None,
                          self.remote.excluded_chunks if self.remote else None)

    @property
    def af_correlation(self) -> float | None:
        return self.local.af_correlation if self.local else None

    def judge(self) -> None:
        """The expected R², whether the server would refuse the job, and the reasons, in words."""
        reasons = list(self.notes)
        if self.local is not None:
            reasons += _local_reasons(self.local)
            usable = _usable(self.local)
            self.expected_r2 = expected_r2(usable, self.local.common_kept, self.local.fst)
            self.expected_well = expected_well_imputed(usable, self.local.common_kept, self.local.fst)
        if self.remote is not None:
            reasons += _remote_reasons(self.remote)
            if self.local is None and self.remote.overlap is not None:
                kept = self.remote.count("remaining_chunks")
                total = (kept or 0) + (self.remote.excluded_chunks or 0)
                share = kept / total if kept is not None and total else 1.0
                self.expected_r2 = expected_r2(self.remote.overlap, share, None)
                self.expected_well = expected_well_imputed(self.remote.overlap, share, None)
                reasons.append("expected R² from the server's overlap alone: allele frequencies are not compared")
        if self.expected_r2 is not None and self.expected_well is not None:
            reasons.insert(0, f"expected for the common variants: mean R² {self.expected_r2:.2f}, "
                              f"{self.expected_well:.0%} of them with R² >= 0.8")
        flips = self.strand_flips
        if flips is not None and flips > STRAND_FLIP_LIMIT:
            self.blocked = True
            reasons.append(f"the server stops the job: {flips:,} strand flips > {STRAND_FLIP_LIMIT} (flip the "
                           "strand first: `bcftools +fixref` with the panel's FASTA)")
        switches = self.allele_switches
        if switches is not None and switches > ALLELE_SWITCH_LIMIT:
            reasons.append(f"{switches:,} allele switches: Michigan 2's panels stop at > {ALLELE_SWITCH_LIMIT}")
        if self.expected_r2 is None and self.local is None and self.remote is None:
            reasons.append("no evidence: the panel's sites are not known here; register them with `fedimpute "
                           f"panels add-sites {self.service} {self.panel_id} FILE` or ask the server with --remote")
        self.reasons = reasons

    def sort_key(self) -> tuple[Any, ...]:
        known = self.expected_r2 is not None
        return (not known, self.blocked, -(self.expected_r2 or 0.0), -(self.overlap or 0.0), self.service,
                self.panel_id)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "service": self.service, "panel_id": self.panel_id, "overlap": _round(self.overlap),
            "strand_flips": self.strand_flips, "allele_switches": self.allele_switches,
            "af_correlation": _round(self.af_correlation), "excluded_chunks": self.excluded_chunks,
            "expected_r2": _round(self.expected_r2), "reasons": self.reasons,
            "expected_well_imputed": _round(self.expected_well),
            "name": self.candidate.panel.name if self.candidate.panel else self.panel_id,
            "protocol": self.candidate.protocol, "blocked": self.blocked,
            "evidence": "+".join(k for k, v in (("local", self.local), ("remote", self.remote)) if v is not None)
                        or None,
        }
        if self.local is not None:
            e = self.local
            doc["local"] = {
                "typed": e.typed, "found": e.found, "alleles": e.alleles, "ref_mismatches": e.ref_mismatches,
                "af_sites": e.af_sites, "af_mean_abs_diff": _round(e.af_mean_abs_diff), "af_outliers": e.af_outliers,
                "af_population": e.af_population, "fst": _round(e.fst, 5), "common_kept": _round(e.common_kept),
                "chromosomes": e.per_chromosome(), "chunks": [c.to_json() for c in e.chunks]}
        if self.remote is not None:
            doc["remote"] = self.remote.to_json()
        return doc


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _usable(e: LocalEvidence) -> float:
    """Share of typed SNPs the server keeps and uses: matches, A/T-C/G and allele switches."""
    kept = e.alleles["match"] + e.alleles["atcg"] + e.alleles["allele_switch"]
    return kept / e.typed if e.typed else 0.0


def _local_reasons(e: LocalEvidence) -> list[str]:
    out = [f"{e.overlap:.1%} of the cohort's {e.typed:,} typed SNPs are in the panel"]
    if e.af_correlation is not None:
        whose = f" ({e.af_population})" if e.af_population else ""
        out.append(f"allele frequencies{whose}: correlation {e.af_correlation:.3f}, mean |difference| "
                   f"{e.af_mean_abs_diff:.3f}, Fst {e.fst or 0:.3f} over {e.af_sites:,} SNPs")
    elif e.af_sites == 0:
        out.append("no allele frequencies compared (the panel gives none, or no SNP matched)")
    if e.af_outliers:
        out.append(f"{e.af_outliers:,} SNPs with a frequency chi-square > 300 (the server's QC report lists them)")
    problems = {"strand flips": e.alleles["strand_flip"], "allele switches": e.alleles["allele_switch"],
                "strand flips with an allele switch": e.alleles["strand_flip_and_allele_switch"],
                "allele mismatches": e.alleles["allele_mismatch"]}
    named = [f"{n:,} {what}" for what, n in problems.items() if n]
    if named:
        out.append("allele problems: " + ", ".join(named))
    if e.excluded_chunks:
        why = "; ".join(f"{c.chromosome}:{c.start:,}-{c.end:,} ({c.reason})" for c in e.chunks if c.excluded)
        out.append(f"{e.excluded_chunks} of {len(e.chunks)} chunk(s) would be excluded: {why[:400]}")
    return out


def _remote_reasons(r: RemoteEvidence) -> list[str]:
    if r.error:
        return [f"QC-only job{' ' + r.job_id if r.job_id else ''} ({r.status}): {r.error}"]
    if not r.statistics:
        return [f"QC-only job {r.job_id} ({r.status}) logged no QC statistics"]
    overlap = f"{r.overlap:.1%}" if r.overlap is not None else "?"
    return [f"server QC (job {r.job_id}): reference overlap {overlap}, {r.count('match') or 0:,} matches, "
            f"{r.strand_flips or 0:,} strand flips, {r.allele_switches or 0:,} allele switches, "
            f"{r.excluded_chunks or 0} chunk(s) excluded, {r.count('typed_only') or 0:,} typed-only sites"]


@dataclass
class Advice:
    """The advisor's answer for one cohort."""

    files: list[Path]
    build: str | None
    population: str | None
    samples: int
    typed: int
    preflight: list[str]  # the pre-flight check's failures, as "file: check: message"
    ranking: list[Recommendation]

    @property
    def best(self) -> Recommendation | None:
        top = self.ranking[0] if self.ranking else None
        return top if top is not None and top.expected_r2 is not None and not top.blocked else None

    def submit_command(self, row: Recommendation | None = None) -> str | None:
        """The exact ``fedimpute submit`` command for ``row`` (default: the winner)."""
        row = row or self.best
        if row is None:
            return None
        parts = ["fedimpute", "submit", *(str(f) for f in self.files), "--service", row.service, "--panel",
                 row.panel_id]
        if self.build:
            parts += ["--build", self.build]
        panel = row.candidate.panel
        if self.population and (panel is None or not panel.populations
                                or any(p.id.lower() == self.population.lower() for p in panel.populations)):
            parts += ["--population", self.population]
        return shlex.join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"ranking": [r.to_json() for r in self.ranking],
                "cohort": {"files": [str(f) for f in self.files], "build": self.build, "population": self.population,
                           "samples": self.samples, "typed_snps": self.typed, "preflight_failures": self.preflight},
                "submit": self.submit_command()}
