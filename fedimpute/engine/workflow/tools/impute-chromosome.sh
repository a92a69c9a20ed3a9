#!/usr/bin/env bash
# Impute one chromosome of a target cohort against a phased reference panel.
# Steps: checks (one chromosome, indexable, panel supports it), site filters with reasons
# (non-biallelic-SNP, duplicate, allele mismatch, not in panel), allele alignment with
# bcftools norm when a FASTA is given, phasing (eagle | beagle | no_phasing), imputation
# (minimac4 | beagle) with R2/MAF/IMPUTED/TYPED in INFO, the info file chrN.info.gz as
# Michigan 2 / TOPMed deliver it (the sites-only VCF minimac4 --sites writes), and report
# parts that summarise.sh gathers.  Messages follow the public servers' wording.
set -euo pipefail

vcf="" panel="" panel_sites="" msav="" map_eagle="" map_plink="" map_minimac="" fasta=""
phasing=eagle imputer=minimac4 r2="" mode=imputation threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --vcf) vcf=$2 ;; --panel-vcf) panel=$2 ;; --panel-sites) panel_sites=$2 ;; --panel-msav) msav=$2 ;; --map-eagle) map_eagle=$2 ;;
    --map-plink) map_plink=$2 ;; --map-minimac) map_minimac=$2 ;; --fasta) fasta=$2 ;;
    --phasing) phasing=$2 ;; --imputer) imputer=$2 ;; --r2-filter) r2=$2 ;; --mode) mode=$2 ;;
    --threads) threads=$2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done

report=report.part.txt excluded=snps-excluded.part.txt chunks=chunks-excluded.part.txt
: > "$report"; : > "$excluded"; : > "$chunks"
say() { printf '%s\n' "$*" >> "$report"; }
fail() { say "Error: $*"; echo "Error: $*" >&2; exit 1; }
sites() { bcftools query -f '%CHROM\t%POS\t%REF\t%ALT\n' "$1"; }
# Lines of $1 (sites) missing from $2, written to the excluded list with reason $3.
exclude() { awk -v r="$3" 'NR==FNR {k[$0]=1; next} !($0 in k) {print $1":"$2":"$3":"$4"\t"r}' "$2" "$1" >> "$excluded"; }

# 1. The input: one chromosome, BGZF, sorted (tabix refuses unsorted files).
bcftools view -Oz -o target.vcf.gz "$vcf" 2> view.err || fail "The provided VCF file is malformed. $(head -c 300 view.err)"
tabix -f -p vcf target.vcf.gz 2> tabix.err || fail "The provided VCF file is malformed. Error: $(head -c 300 tabix.err)"
chroms=$(tabix -l target.vcf.gz)
[ -n "$chroms" ] || fail "No genotypes found in the VCF file. It appears the file contains only the header."
[ "$(printf '%s\n' "$chroms" | wc -l)" -eq 1 ] || \
  fail "The provided VCF file contains more than one chromosome. Please split your input VCF file by chromosome"
chrom=$chroms
samples=$(bcftools query -l target.vcf.gz | wc -l)
panel_chroms=$(tabix -l "$panel")
in_panel() { [[ $'\n'"$panel_chroms"$'\n' == *$'\n'"$1"$'\n'* ]]; }
if ! in_panel "$chrom"; then
  for alt in "chr${chrom#chr}" "${chrom#chr}"; do
    if in_panel "$alt"; then
      printf '%s\t%s\n' "$chrom" "$alt" > rename.txt
      bcftools annotate --rename-chrs rename.txt -Oz -o renamed.vcf.gz target.vcf.gz
      mv renamed.vcf.gz target.vcf.gz; tabix -f -p vcf target.vcf.gz
      say "Renamed chromosome $chrom to $alt to match the reference panel"
      chrom=$alt; break
    fi
  done
fi
in_panel "$chrom" || fail "This reference panel doesn't support chromosome $chrom."
label=${chrom#chr}
say "Chromosome: $label"
say "Samples: $samples"

# 2. Site filters, each with its reason.
sites target.vcf.gz > s0.txt
bcftools view -m2 -M2 -v snps -Oz -o s1.vcf.gz target.vcf.gz; tabix -p vcf s1.vcf.gz
sites s1.vcf.gz > s1.txt; exclude s0.txt s1.txt "Not a biallelic SNP"
bcftools norm -d exact -Oz -o s2.vcf.gz s1.vcf.gz 2>/dev/null; tabix -p vcf s2.vcf.gz
sites s2.vcf.gz > s2.txt; exclude s1.txt s2.txt "Duplicated site"
if [ -n "$fasta" ]; then
  bcftools norm -c ws -f "$fasta" -Oz -o s3.vcf.gz s2.vcf.gz 2> norm.err || fail "Allele alignment failed: $(tail -c 300 norm.err)"
  swapped=$(grep -c "REF_SEQ" norm.err || true)
  say "Allele switches fixed against the reference FASTA: ${swapped:-0}"
else
  cp s2.vcf.gz s3.vcf.gz
  say "Allele switches fixed against the reference FASTA: not checked (no FASTA for this panel)"
fi
tabix -f -p vcf s3.vcf.gz
# Overlap with the panel, read from its sites-only copy when the registry made one (much smaller).
bcftools isec -n=2 -w1 -c none -Oz -o s4.vcf.gz s3.vcf.gz "${panel_sites:-$panel}"; tabix -p vcf s4.vcf.gz
sites s3.vcf.gz | sort -u > s3.txt; sites s4.vcf.gz > s4.txt
exclude s3.txt s4.txt "Not in reference panel or allele mismatch"
input_n=$(wc -l < s0.txt); kept=$(wc -l < s4.txt); dropped=$(wc -l < "$excluded")
say "SNPs: $input_n"
say "Excluded sites in total: $dropped"
say "Remaining sites in total: $kept"
awk -v c="$label" '{ n[int(($2 - 1) / 20000000)]++ } END { for (k in n) if (n[k] < 3)
  printf "%s:%d-%d\t%d\tless than 3 SNPs\n", c, k * 20000000 + 1, (k + 1) * 20000000, n[k] }' s4.txt >> "$chunks"
[ "$kept" -ge 3 ] || fail "No chunks passed the QC step. Imputation cannot be started!"
if [ "$mode" != imputation ]; then say "Mode: quality control only"; exit 0; fi

# 3. Phasing.
case "$phasing" in
  no_phasing)
    # count rather than grep -q: an early exit would SIGPIPE bcftools and fail the pipeline
    unphased=$(bcftools query -f '[%GT\n]' s4.vcf.gz | awk '/\// { n++ } END { print n + 0 }')
    if [ "$unphased" -gt 0 ]; then
      fail "Your input data is unphased. Please select an algorithm for phasing."
    fi
    cp s4.vcf.gz phased.vcf.gz ;;
  eagle)
    eagle=$(command -v bio-eagle || command -v eagle) || fail "eagle is not installed (Debian package bio-eagle)"
    if [ -z "$map_eagle" ]; then  # eagle insists on a map: a flat 1 cM/Mb one from the panel sites
      bcftools query -f '%POS\n' "$panel" | awk -v c="${label/X/23}" 'BEGIN {print "chr position COMBINED_rate(cM/Mb) Genetic_Map(cM)"}
        {printf "%s %d 1 %.6f\n", c, $1, $1 / 1e6}' > flat.map; map_eagle=flat.map
    fi
    "$eagle" --vcfRef "$panel" --vcfTarget s4.vcf.gz --geneticMapFile "$map_eagle" --outPrefix phased \
      --numThreads "$threads" > eagle.log 2>&1 || fail "Phasing with eagle failed: $(tail -c 300 eagle.log)" ;;
  beagle)
    beagle gt=s4.vcf.gz ref="$panel" out=phased impute=false nthreads="$threads" ${map_plink:+map=$map_plink} \
      > beagle-phase.log 2>&1 || fail "Phasing with beagle failed: $(tail -c 300 beagle-phase.log)" ;;
  *) fail "For phasing, only options 'eagle', 'beagle' or 'no_phasing' are allowed." ;;
esac
tabix -f -p vcf phased.vcf.gz
say "Phasing: $phasing"

# 4. Imputation, with R2, MAF, IMPUTED and TYPED in INFO whichever engine ran.
dose="chr$label.dose.vcf.gz" info="chr$label.info.gz"
case "$imputer" in
  minimac4)
    if [ -z "$msav" ]; then minimac4 --compress-reference "$panel" -o panel.msav > msav.log 2>&1; msav=panel.msav; fi
    # As Michigan 2 runs it: typed sites missing from the panel kept (TYPED without IMPUTED), the info
    # file from --sites; -O vcf.gz for both outputs (without it the .info.gz would be zstd SAV).
    minimac4 ${map_minimac:+--map "$map_minimac"} ${r2:+--min-r2 "$r2"} "$msav" phased.vcf.gz -o "$dose" \
      -O vcf.gz -f GT,DS -t "$threads" --all-typed-sites --sites "$info" > minimac4.log 2>&1 \
      || fail "Imputation with minimac4 failed: $(tail -c 300 minimac4.log)" ;;
  beagle)
    beagle gt=phased.vcf.gz ref="$panel" out=beagle-imputed nthreads="$threads" ${map_plink:+map=$map_plink} \
      > beagle.log 2>&1 || fail "Imputation with beagle failed: $(tail -c 300 beagle.log)"
    { bcftools view -h beagle-imputed.vcf.gz | sed '$d'
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
    # the info VCF: the same sites without genotypes (cut, not bcftools view -G, which refuses
    # beagle's output for its missing ##contig line)
    cut -f 1-8 rewritten.vcf | bgzip -c > "$info"; rm rewritten.vcf ;;
  *) fail "unknown imputation engine $imputer (minimac4 or beagle)" ;;
esac
tabix -f -p vcf "$dose"
bcftools query -f '%INFO/R2\n' "$info" | awk '$1 != "." { n++; s += $1 }
  END { printf "%d\t%.4f\n", n, (n ? s / n : 0) }' > summary.tsv
say "Imputation: $imputer"
say "Imputed variants: $(cut -f1 summary.tsv)"
say "Mean R2: $(cut -f2 summary.tsv)"
