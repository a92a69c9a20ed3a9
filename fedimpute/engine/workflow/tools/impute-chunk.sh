#!/usr/bin/env bash
# Phase and impute one chunk of one chromosome.  The chunk [start, end] comes from the plan file
# prepare-chromosome.sh wrote; the work covers the window start-flank .. end+flank, so the sites
# near the chunk's borders get the same haplotype context as sites in its middle.  The outputs
# keep the whole window (untrimmed): ligate.sh cuts each chunk back to the sites it owns.
# Phasing: eagle | beagle | no_phasing; imputation: minimac4 | beagle, with R2, MAF, IMPUTED and
# TYPED in INFO whichever engine ran, and a sites-only info VCF (minimac4 --sites, Michigan 2's
# chrN.info.gz layout).  Outputs CHROM_START-END.dose.vcf.gz and CHROM_START-END.info.gz.
set -euo pipefail

target="" plan="" flank=5000000 panel="" msav="" built_msav="" map_eagle="" map_plink="" map_minimac=""
phasing=eagle imputer=minimac4 r2="" threads=1 ram=1000 heap=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=$2 ;; --plan) plan=$2 ;; --flank) flank=$2 ;; --panel-vcf) panel=$2 ;;
    --panel-msav) msav=$2 ;; --built-msav) built_msav=$2 ;; --map-eagle) map_eagle=$2 ;;
    --map-plink) map_plink=$2 ;; --map-minimac) map_minimac=$2 ;; --phasing) phasing=$2 ;;
    --imputer) imputer=$2 ;; --r2-filter) r2=$2 ;; --threads) threads=$2 ;; --ram) ram=$2 ;;
    --java-heap) heap=$2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
fail() { echo "Error: $*" >&2; exit 1; }

[ "$flank" -ge 0 ] || fail "chunk_flank must be 0 or more base pairs, got $flank"
read -r chrom start end < "$plan"
label=${chrom#chr}
from=$(( start > flank ? start - flank : 1 )) to=$(( end + flank ))
window="$chrom:$from-$to"
name="${chrom}_${start}-${end}"
# Beagle's JVM takes a quarter of the machine's RAM by default, far more than this job asked the
# batch system for: give it 80% of the job's RAM unless the heap was set.
export JAVA_TOOL_OPTIONS="-Xmx${heap:-$(( ram * 4 / 5 ))m}"

bcftools view -r "$window" -Oz -o window.vcf.gz "$target"; tabix -f -p vcf window.vcf.gz

# 1. Phasing, within the window (both phasers read only the window of the panel).
case "$phasing" in
  no_phasing) cp window.vcf.gz phased.vcf.gz ;;
  eagle)
    eagle=$(command -v bio-eagle || command -v eagle) || fail "eagle is not installed (Debian package bio-eagle)"
    if [ -z "$map_eagle" ]; then
      # eagle insists on a map: a flat 1 cM/Mb one (eagle interpolates between these two points)
      printf 'chr position COMBINED_rate(cM/Mb) Genetic_Map(cM)\n%s 1 1 0.000001\n%s 300000000 1 300\n' \
        "${label/X/23}" "${label/X/23}" > flat.map
      map_eagle=flat.map
    fi
    "$eagle" --vcfRef "$panel" --vcfTarget window.vcf.gz --geneticMapFile "$map_eagle" --outPrefix phased \
      --chrom "$chrom" --bpStart "$from" --bpEnd "$to" --numThreads "$threads" > eagle.log 2>&1 \
      || fail "Phasing with eagle failed in $name: $(tail -c 300 eagle.log)" ;;
  beagle)
    beagle gt=window.vcf.gz ref="$panel" out=phased impute=false chrom="$window" nthreads="$threads" \
      ${map_plink:+map=$map_plink} > beagle-phase.log 2>&1 \
      || fail "Phasing with beagle failed in $name: $(tail -c 300 beagle-phase.log)" ;;
  *) fail "For phasing, only options 'eagle', 'beagle' or 'no_phasing' are allowed." ;;
esac
tabix -f -p vcf phased.vcf.gz

# 2. Imputation of the panel's sites in the window.
dose="$name.dose.vcf.gz" info="$name.info.gz"
case "$imputer" in
  minimac4)
    msav=${msav:-$built_msav}
    [ -n "$msav" ] || fail "no minimac4 reference (.msav) for $name"
    # As Michigan 2 runs it: typed sites missing from the panel kept (TYPED without IMPUTED), the info
    # file from --sites; -O vcf.gz for both outputs (without it the .info.gz would be zstd SAV).
    minimac4 ${map_minimac:+--map "$map_minimac"} ${r2:+--min-r2 "$r2"} --region "$window" "$msav" phased.vcf.gz \
      -o "$dose" -O vcf.gz -f GT,DS -t "$threads" --all-typed-sites --sites "$info" > minimac4.log 2>&1 \
      || fail "Imputation with minimac4 failed in $name: $(tail -c 300 minimac4.log)" ;;
  beagle)
    beagle gt=phased.vcf.gz ref="$panel" out=beagle-imputed chrom="$window" nthreads="$threads" \
      ${map_plink:+map=$map_plink} > beagle.log 2>&1 || fail "Imputation with beagle failed in $name: $(tail -c 300 beagle.log)"
    # Beagle writes DR2/AF/IMP and no ##contig line: rewrite INFO to the minimac4 keys, and declare the
    # contig so bcftools can cut and concatenate the chunks without warnings.
    { bcftools view -h beagle-imputed.vcf.gz | sed '$d'
      echo "##contig=<ID=$chrom>"
      echo '##INFO=<ID=R2,Number=1,Type=Float,Description="Estimated imputation accuracy (beagle DR2)">'
      echo '##INFO=<ID=MAF,Number=1,Type=Float,Description="Estimated minor allele frequency">'
      echo '##INFO=<ID=IMPUTED,Number=0,Type=Flag,Description="Marker was imputed">'
      echo '##INFO=<ID=TYPED,Number=0,Type=Flag,Description="Marker was genotyped">'
      bcftools view -h beagle-imputed.vcf.gz | tail -n 1
      bcftools view -H beagle-imputed.vcf.gz | awk -F'\t' -v OFS='\t' -v min="${r2:-0}" '{
        n = split($8, kv, ";"); info = ""; imp = 0; r = ""; af = ""
        for (i = 1; i <= n; i++) { split(kv[i], p, "=")
          if (p[1] == "DR2") r = p[2]; else if (p[1] == "AF") af = p[2]; else if (p[1] == "IMP") imp = 1 }
        if (imp && r < min) next
        maf = (af > 0.5) ? 1 - af : af
        $8 = "AF=" af ";MAF=" maf ";R2=" r ";" (imp ? "IMPUTED" : "TYPED"); print }'
    } > rewritten.vcf
    bgzip -c rewritten.vcf > "$dose"
    # the info VCF: the same sites without genotypes
    cut -f 1-8 rewritten.vcf | bgzip -c > "$info"; rm rewritten.vcf ;;
  *) fail "unknown imputation engine $imputer (minimac4 or beagle)" ;;
esac
