#!/usr/bin/env bash
# One chromosome through the workflow's steps, run in sequence in the current folder by bash alone
# (no CWL runner): prepare-chromosome.sh, impute-chunk.sh for each planned chunk, ligate.sh.  The
# workflow itself runs the same scripts through chromosome.cwl; this is for measuring the tools
# without orchestration (benchmarks/engine.py) and for tests that want the tools' own files.
# Leaves chrN.dose.vcf.gz (+ .tbi), chrN.info.gz and the report parts here; the chunks' working
# files (phased.vcf.gz, beagle-imputed.vcf.gz, tool logs) are those of the last chunk, so with one
# chunk (any chromosome up to the 20 Mb default) they are all there.
# Arguments: those of prepare-chromosome.sh and impute-chunk.sh; --chunk-flank, --threads, --ram.
set -euo pipefail
tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

prepare=() chunk=() phasing=eagle imputer=minimac4 mode=imputation
while [ $# -gt 0 ]; do
  case "$1" in
    --vcf|--panel-sites|--fasta|--chunk-size) prepare+=("$1" "$2") ;;
    --panel-vcf|--panel-msav) prepare+=("$1" "$2"); chunk+=("$1" "$2") ;;
    --map-eagle|--map-plink|--map-minimac|--r2-filter|--threads|--ram|--java-heap) chunk+=("$1" "$2") ;;
    --chunk-flank) chunk+=(--flank "$2") ;;
    --phasing) phasing=$2 ;; --imputer) imputer=$2 ;; --mode) mode=$2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
common=(--phasing "$phasing" --imputer "$imputer")

bash "$tools/prepare-chromosome.sh" "${prepare[@]}" "${common[@]}" --mode "$mode"
plans=("$PWD"/chunk-*.txt)
[ -e "${plans[0]}" ] || plans=()  # qc-only: no chunk planned
doses=() infos=()
built=(); [ -f panel.msav ] && built=(--built-msav panel.msav)
for plan in "${plans[@]}"; do
  bash "$tools/impute-chunk.sh" --target target.vcf.gz --plan "$plan" "${chunk[@]}" "${built[@]}" "${common[@]}"
  read -r chrom start end < "$plan"
  doses+=("$PWD/${chrom}_${start}-${end}.dose.vcf.gz"); infos+=("$PWD/${chrom}_${start}-${end}.info.gz")
done
# ligate.sh copies the report part onto its own: run it apart, then bring its results here.
mkdir -p ligate
(cd ligate && bash "$tools/ligate.sh" --report ../report.part.txt "${common[@]}" --mode "$mode" \
  --plans "${plans[@]}" --doses "${doses[@]}" --infos "${infos[@]}")
mv ligate/report.part.txt report.part.txt
for f in ligate/chr*.dose.vcf.gz ligate/chr*.dose.vcf.gz.tbi ligate/chr*.info.gz; do
  if [ -e "$f" ]; then mv "$f" .; fi
done
rm -rf ligate
