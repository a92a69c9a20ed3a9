"""Quality Control step: statistics, chunk filter and the texts the server prints.

Why separate from vcf.py: scanning decides per site; this module aggregates
over all files, applies the chunk rule (20 Mb chunks, fewer than `min_snps`
remaining sites -> excluded) and renders the messages and report files in the
server's wording (section 6.2).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .vcf import CHUNK_SIZE, VcfFile

STATISTICS = [
    "Alternative allele frequency > 0.5 sites",
    "Reference Overlap",
    "Match",
    "Allele switch",
    "Strand flip",
    "Strand flip and allele switch",
    "A/T, C/G genotypes",
]
FILTERS = [
    "Filter flag set",
    "Invalid alleles",
    "Multiallelic sites",
    "Duplicated sites",
    "NonSNP sites",
    "Monomorphic sites",
    "Allele mismatch",
    "SNPs call rate < 90%",
]


@dataclass
class QcResult:
    counts: Counter
    excluded_sites: list[str]
    chunks: list[tuple[str, int, bool]] = field(default_factory=list)  # (name, snps, excluded)
    min_snps: int = 3

    @property
    def excluded(self) -> int:
        return sum(self.counts[name] for name in FILTERS)

    @property
    def remaining(self) -> int:
        return self.counts["Match"]

    @property
    def remaining_chunks(self) -> int:
        return sum(1 for _name, _snps, dropped in self.chunks if not dropped)

    @property
    def dropped_chunks(self) -> list[tuple[str, int, bool]]:
        return [chunk for chunk in self.chunks if chunk[2]]


def run_qc(vcfs: list[VcfFile], min_snps: int = 3) -> QcResult:
    counts: Counter = Counter()
    result = QcResult(counts, [], min_snps=min_snps)
    for vcf in vcfs:
        counts.update(vcf.qc)
        result.excluded_sites.extend(vcf.excluded)
        for index in sorted(vcf.chunk_snps):
            snps = vcf.chunk_snps[index]
            name = f"{vcf.chrom}:{index * CHUNK_SIZE + 1}-{(index + 1) * CHUNK_SIZE}"
            result.chunks.append((name, snps, snps < min_snps))
    return result


def statistics_message(qc: QcResult) -> str:
    overlap = "100.00 %" if qc.remaining else "0.00 %"
    lines = ["<b>Statistics:</b>"]
    for key in STATISTICS:
        lines.append(f"{key}: {overlap}" if key == "Reference Overlap" else f"{key}: {qc.counts[key]:,}")
    lines.append("<b>Filtered sites:</b>")
    lines += [f"{key}: {qc.counts[key]:,}" for key in FILTERS]
    return "\n".join(lines)


def summary_message(qc: QcResult) -> tuple[str, bool]:
    """The QC summary block and whether it is fatal (no chunk left to impute)."""
    lines = [f"Excluded sites in total: {qc.excluded:,}", f"Remaining sites in total: {qc.remaining:,}"]
    if qc.excluded:
        lines.append("See snps-excluded.txt for details")
    lines.append("Typed only sites: 0")
    dropped = len(qc.dropped_chunks)
    if dropped:
        lines.append(
            f"<b>Warning:</b> {dropped} Chunk(s) excluded: < {qc.min_snps} SNPs "
            "(see chunks-excluded.txt for details)."
        )
    lines.append(f"Remaining chunk(s): {qc.remaining_chunks}")
    fatal = qc.remaining_chunks == 0
    if fatal:
        lines.append("<b>Error:</b> No chunks passed the QC step. Imputation cannot be started!")
    return "\n".join(lines), fatal


def report_text(qc: QcResult, job_id: str) -> str:
    """qc_report.txt: the same numbers as the step messages, as plain text."""
    plain = statistics_message(qc).replace("<b>", "").replace("</b>", "")
    summary = summary_message(qc)[0].replace("<b>", "").replace("</b>", "")
    return f"Quality Control Report\nJob: {job_id}\n\n{plain}\n\n{summary}\n"


def snps_excluded_text(qc: QcResult) -> str:
    return "#Position\tFilterType\tInfo\n" + "".join(f"{line}\n" for line in qc.excluded_sites)


def chunks_excluded_text(qc: QcResult) -> str:
    rows = [f"{name}\t{snps}\t{100.0 if snps else 0.0:.2f}\t0\n" for name, snps, _ in qc.dropped_chunks]
    return "#Chunk\tSNPs (#)\tReference Overlap (%)\tLow Sample Call Rates (#)\n" + "".join(rows)
