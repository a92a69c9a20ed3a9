#!/usr/bin/env bash
# Gather per-chromosome report parts into qc_report.txt and statistics/ (as the servers lay them out).
set -euo pipefail
panel="" build="" population="" phasing="" imputer="" mode="" reports=() excluded=() chunks=() into=""
while [ $# -gt 0 ]; do
  case "$1" in
    --panel) panel=$2; shift 2 ;; --build) build=$2; shift 2 ;; --population) population=$2; shift 2 ;;
    --phasing) phasing=$2; shift 2 ;; --imputer) imputer=$2; shift 2 ;; --mode) mode=$2; shift 2 ;;
    --reports) into=reports; shift ;; --excluded) into=excluded; shift ;; --chunks) into=chunks; shift ;;
    *) case "$into" in reports) reports+=("$1") ;; excluded) excluded+=("$1") ;; chunks) chunks+=("$1") ;; esac; shift ;;
  esac
done
mkdir -p statistics
{
  echo "fedimpute local imputation engine"
  echo "Reference Panel: $panel"
  echo "Build: ${build:-as the panel}"
  echo "Population: ${population:-off}"
  echo "Phasing: $phasing"
  echo "Imputation: $imputer"
  echo "Mode: $mode"
  for r in "${reports[@]}"; do echo; cat "$r"; done
} > qc_report.txt
{ printf 'SNP\tReason\n'; for f in "${excluded[@]}"; do cat "$f"; done; } > statistics/snps-excluded.txt
{ printf 'Chunk\tSNPs (#)\tReference Overlap (%%)\tReason\n'; for f in "${chunks[@]}"; do cat "$f"; done; } > statistics/chunks-excluded.txt
