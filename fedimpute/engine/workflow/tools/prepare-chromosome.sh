#!/usr/bin/env bash
# Check one chromosome of a target cohort against the panel and plan its chunks, as the servers'
# QC step does.  Checks: one chromosome, indexable, the panel supports it.  Site filters with
# reasons (non-biallelic-SNP, duplicate, allele mismatch, not in panel); allele alignment with
# bcftools norm when a FASTA is given.  Chunk plan: the chromosome cut into chunk_size pieces on a
# fixed grid (1..size, size+1..2*size, ... as Michigan names them), every piece from the one holding
# the first site to the one holding the last.  A chunk owns the sites whose POS lies in its
# [start, end], so each site belongs to exactly one chunk; the flank is added later, by the chunk
# step.  A chunk is excluded, as the servers do, when it has fewer than 3 SNPs left after QC or
# fewer than 50% of its valid SNPs are in the panel.
# Outputs: target.vcf.gz (the QC'd sites, indexed), chunk-NNNNNN.txt (one per chunk to impute:
# "chrom<TAB>start<TAB>end"), panel.msav (only when minimac4 runs and the registry gave none),
# report.part.txt, snps-excluded.part.txt, chunks-excluded.part.txt.  Messages follow the public
# servers' wording.
set -euo pipefail

vcf="" panel="" panel_sites="" msav="" fasta="" phasing=eagle imputer=minimac4 mode=imputation
chunk_size=20000000
while [ $# -gt 0 ]; do
  case "$1" in
    --vcf) vcf=$2 ;; --panel-vcf) panel=$2 ;; --panel-sites) panel_sites=$2 ;; --panel-msav) msav=$2 ;;
    --fasta) fasta=$2 ;; --phasing) phasing=$2 ;; --imputer) imputer=$2 ;; --mode) mode=$2 ;;
    --chunk-size) chunk_size=$2 ;;
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

# Wrong options fail here, once, rather than in every chunk job.
case "$phasing" in eagle|beagle|no_phasing) ;;
  *) fail "For phasing, only options 'eagle', 'beagle' or 'no_phasing' are allowed." ;; esac
case "$imputer" in minimac4|beagle) ;; *) fail "unknown imputation engine $imputer (minimac4 or beagle)" ;; esac
[ "$chunk_size" -gt 0 ] || fail "chunk_size must be a positive number of base pairs, got $chunk_size"

# 1. The input: one chromosome, BGZF, sorted (tabix refuses unsorted files).
bcftools view -Oz -o input.vcf.gz "$vcf" 2> view.err || fail "The provided VCF file is malformed. $(head -c 300 view.err)"
tabix -f -p vcf input.vcf.gz 2> tabix.err || fail "The provided VCF file is malformed. Error: $(head -c 300 tabix.err)"
chroms=$(tabix -l input.vcf.gz)
[ -n "$chroms" ] || fail "No genotypes found in the VCF file. It appears the file contains only the header."
[ "$(printf '%s\n' "$chroms" | wc -l)" -eq 1 ] || \
  fail "The provided VCF file contains more than one chromosome. Please split your input VCF file by chromosome"
chrom=$chroms
samples=$(bcftools query -l input.vcf.gz | wc -l)
panel_chroms=$(tabix -l "$panel")
in_panel() { [[ $'\n'"$panel_chroms"$'\n' == *$'\n'"$1"$'\n'* ]]; }
if ! in_panel "$chrom"; then
  for alt in "chr${chrom#chr}" "${chrom#chr}"; do
    if in_panel "$alt"; then
      printf '%s\t%s\n' "$chrom" "$alt" > rename.txt
      bcftools annotate --rename-chrs rename.txt -Oz -o renamed.vcf.gz input.vcf.gz
      mv renamed.vcf.gz input.vcf.gz; tabix -f -p vcf input.vcf.gz
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
sites input.vcf.gz > s0.txt
bcftools view -m2 -M2 -v snps -Oz -o s1.vcf.gz input.vcf.gz; tabix -p vcf s1.vcf.gz
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
bcftools isec -n=2 -w1 -c none -Oz -o target.vcf.gz s3.vcf.gz "${panel_sites:-$panel}"; tabix -p vcf target.vcf.gz
sites s3.vcf.gz | sort -u > s3.txt; sites target.vcf.gz > s4.txt
exclude s3.txt s4.txt "Not in reference panel or allele mismatch"
input_n=$(wc -l < s0.txt); kept=$(wc -l < s4.txt); dropped=$(wc -l < "$excluded")
say "SNPs: $input_n"
say "Excluded sites in total: $dropped"
say "Remaining sites in total: $kept"

# 3. The chunk plan.  Valid SNPs (s3: biallelic, unique, aligned) give each chunk's span and the
# denominator of its panel overlap; the sites kept after QC (s4) are the chunk's typed SNPs.
# plan.tsv: chrom, start, end, typed SNPs, overlap %, reason ("" when the chunk is imputed).
cut -f2 s3.txt | sort -n > valid.pos; cut -f2 s4.txt > kept.pos
awk -v size="$chunk_size" -v chrom="$chrom" -v OFS='\t' '
  FNR == NR { k = int(($1 - 1) / size); valid[k]++; if (first == "" || k < first) first = k
              if (last == "" || k > last) last = k; next }
  { kept[int(($1 - 1) / size)]++ }
  END { if (first == "") exit
    for (k = first; k <= last; k++) {
      n = kept[k] + 0; overlap = valid[k] ? 100 * n / valid[k] : 0; reason = ""
      if (n < 3) reason = "less than 3 SNPs"
      if (valid[k] && overlap < 50) reason = (reason ? reason "; " : "") "less than 50% of its SNPs in the reference panel"
      printf "%s\t%d\t%d\t%d\t%.2f\t%s\n", chrom, k * size + 1, (k + 1) * size, n, overlap, reason } }
' valid.pos kept.pos > plan.tsv
awk -F'\t' -v OFS='\t' '$6 != "" { print $1":"$2"-"$3, $4, $5, $6 }' plan.tsv >> "$chunks"
planned=$(wc -l < plan.tsv); skipped=$(wc -l < "$chunks")
say "Chunks: $planned"
say "Chunks excluded: $skipped"
[ "$planned" -gt "$skipped" ] || fail "No chunks passed the QC step. Imputation cannot be started!"
# the run's log tells whoever follows it how many chunk jobs this chromosome has (their progress total)
echo "fedimpute: $label: $((planned - skipped)) chunks to impute" >&2
if [ "$mode" != imputation ]; then say "Mode: quality control only"; exit 0; fi

# Unphased input cannot skip phasing: say so here, once, before any chunk job starts.
if [ "$phasing" = no_phasing ]; then
  # count rather than grep -q: an early exit would SIGPIPE bcftools and fail the pipeline
  unphased=$(bcftools query -f '[%GT\n]' target.vcf.gz | awk '/\// { n++ } END { print n + 0 }')
  [ "$unphased" -eq 0 ] || fail "Your input data is unphased. Please select an algorithm for phasing."
fi
# One .msav for the whole chromosome, shared by its chunks (each reads its window with --region).
if [ "$imputer" = minimac4 ] && [ -z "$msav" ]; then
  minimac4 --compress-reference "$panel" -o panel.msav > msav.log 2>&1 \
    || fail "Compressing the reference panel for minimac4 failed: $(tail -c 300 msav.log)"
fi
# One file per chunk to impute: the chunk step is scattered over these (zero-padded, so the
# runner's sorted glob keeps them in genome order).
awk -F'\t' '$6 == "" { f = sprintf("chunk-%09d.txt", $2); printf "%s\t%d\t%d\n", $1, $2, $3 > f; close(f) }' plan.tsv
