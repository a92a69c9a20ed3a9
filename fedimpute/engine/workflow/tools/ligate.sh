#!/usr/bin/env bash
# Ligate one chromosome's imputed chunks into chrN.dose.vcf.gz (indexed) and chrN.info.gz (BGZF,
# minimac4 --sites layout).  Each chunk was imputed over its window (chunk plus flanks); here it is
# cut back to the sites it owns, POS in [start, end] of its plan, so a site in the overlap of two
# windows comes from exactly one chunk, and the pieces are concatenated in genome order.  The
# chromosome's report part (from the QC step) gets the imputation lines appended.
# Arguments: --report FILE --phasing P --imputer I --mode M, then --plans F..., --doses F...,
# --infos F... (the k-th dose and info file belong to the k-th plan: the scatter keeps the order).
set -euo pipefail

qc_report="" phasing="" imputer="" mode="" plans=() doses=() infos=() into=""
while [ $# -gt 0 ]; do
  case "$1" in
    --report) qc_report=$2; shift 2 ;; --phasing) phasing=$2; shift 2 ;; --imputer) imputer=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --plans) into=plans; shift ;; --doses) into=doses; shift ;; --infos) into=infos; shift ;;
    *) case "$into" in plans) plans+=("$1") ;; doses) doses+=("$1") ;; infos) infos+=("$1") ;;
         *) echo "unknown argument $1" >&2; exit 2 ;; esac; shift ;;
  esac
done
report=report.part.txt
cp "$qc_report" "$report"
say() { printf '%s\n' "$*" >> "$report"; }
fail() { say "Error: $*"; echo "Error: $*" >&2; exit 1; }

[ "$mode" = imputation ] || exit 0  # qc-only: the QC step planned no chunk, nothing to ligate
[ "${#plans[@]}" -gt 0 ] || fail "No chunks passed the QC step. Imputation cannot be started!"
[ "${#plans[@]}" -eq "${#doses[@]}" ] && [ "${#plans[@]}" -eq "${#infos[@]}" ] \
  || fail "ligation got ${#plans[@]} chunk plans but ${#doses[@]} dose and ${#infos[@]} info files"

# Pieces named by their start (zero-padded), so the shell's sorted glob puts them in genome order
# whatever order the runner handed them over in.
mkdir -p pieces
for i in "${!plans[@]}"; do
  read -r chrom start end < "${plans[$i]}"
  # impute-chunk.sh names its outputs after its chunk: a mismatch would mean mispaired arrays
  [ "$(basename "${doses[$i]}")" = "${chrom}_${start}-${end}.dose.vcf.gz" ] \
    || fail "chunk $chrom:$start-$end was paired with $(basename "${doses[$i]}"); please report this"
  key=$(printf '%09d' "$start")
  # -t (targets) keeps a record when its POS is in the region (--targets-overlap 0), never a record
  # that starts before it and overlaps it, so an indel at a border is not kept by both chunks.
  bcftools view --no-version -t "$chrom:$start-$end" --targets-overlap 0 -Oz -o "pieces/$key.dose.vcf.gz" "${doses[$i]}"
  bcftools view --no-version -t "$chrom:$start-$end" --targets-overlap 0 -Oz -o "pieces/$key.info.gz" "${infos[$i]}"
done
label=${chrom#chr}
dose="chr$label.dose.vcf.gz" info="chr$label.info.gz"
bcftools concat --no-version -Oz -o "$dose" pieces/*.dose.vcf.gz 2> concat.err \
  || fail "Ligating the chunks failed: $(tail -c 300 concat.err)"
bcftools concat --no-version -Oz -o "$info" pieces/*.info.gz 2> concat.err \
  || fail "Ligating the chunks' info files failed: $(tail -c 300 concat.err)"
tabix -f -p vcf "$dose"

# The chunks own disjoint ranges, so a site seen twice means a plan or trimming bug: stop rather
# than deliver it.
dups=$(bcftools query -f '%CHROM:%POS:%REF:%ALT\n' "$dose" | sort | uniq -d | head -n 3 | tr '\n' ' ')
[ -z "$dups" ] || fail "Ligation produced duplicated sites (${dups}); please report this"

bcftools query -f '%INFO/R2\n' "$info" | awk '$1 != "." { n++; s += $1 }
  END { printf "%d\t%.4f\n", n, (n ? s / n : 0) }' > summary.tsv
say "Phasing: $phasing"
say "Imputation: $imputer"
say "Chunks imputed: ${#plans[@]}"
say "Imputed variants: $(cut -f1 summary.tsv)"
say "Mean R2: $(cut -f2 summary.tsv)"
