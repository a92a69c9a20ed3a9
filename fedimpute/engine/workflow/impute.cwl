#!/usr/bin/env cwl-runner
# fedimpute's imputation workflow: per chromosome (scattered over the input files) check
# and align the target to the panel, phase (eagle, beagle or none), impute (minimac4 or
# beagle), then gather a QC report and statistics laid out like the public servers'.
# Runs with cwltool and Toil; needs bcftools, tabix, eagle (bio-eagle on Debian), beagle
# and minimac4 on the PATH.  No containers.
cwlVersion: v1.2
class: Workflow
label: fedimpute genotype imputation
requirements:
  ScatterFeatureRequirement: {}

inputs:
  vcfs: {type: "File[]", doc: "bgzipped VCF files of the target cohort, one chromosome each"}
  panel: {type: string, doc: "reference panel id (reported)"}
  build: {type: "string?", doc: "hg19 or hg38 (reported; the panel decides the coordinates)"}
  population: {type: "string?"}
  phasing: {type: string, default: eagle, doc: "eagle, beagle or no_phasing"}
  imputer: {type: string, default: minimac4, doc: "minimac4 or beagle"}
  r2_filter: {type: "string?", doc: "drop imputed variants with R2 below this"}
  mode: {type: string, default: imputation, doc: "imputation or qc-only"}
  panel_vcf: {type: File, secondaryFiles: [.tbi], doc: "phased panel VCF, indexed"}
  panel_sites: {type: "File?", secondaryFiles: [.tbi], doc: "sites-only copy of the panel (faster overlap)"}
  panel_msav: {type: "File?", doc: "minimac4 .msav of the panel (built on the fly when absent)"}
  map_eagle: {type: "File?"}
  map_plink: {type: "File?"}
  map_minimac: {type: "File?"}
  fasta: {type: "File?", secondaryFiles: [.fai], doc: "reference FASTA for allele alignment (bcftools norm -c)"}
  threads: {type: int, default: 2}
  java_heap: {type: string, default: 2g, doc: "Java heap for beagle (-Xmx)"}

steps:
  chromosome:
    run: tools/impute-chromosome.cwl
    scatter: vcf
    in:
      vcf: vcfs
      panel_vcf: panel_vcf
      panel_sites: panel_sites
      panel_msav: panel_msav
      map_eagle: map_eagle
      map_plink: map_plink
      map_minimac: map_minimac
      fasta: fasta
      phasing: phasing
      imputer: imputer
      r2_filter: r2_filter
      mode: mode
      threads: threads
      java_heap: java_heap
    out: [dose, info, excluded, chunks, report]
  summary:
    run: tools/summarise.cwl
    in:
      reports: chromosome/report
      excluded: chromosome/excluded
      chunks: chromosome/chunks
      panel: panel
      build: build
      population: population
      phasing: phasing
      imputer: imputer
      mode: mode
    out: [qc_report, statistics]

outputs:
  dose:
    type: {type: array, items: ["null", File]}
    outputSource: chromosome/dose
  info:
    type: {type: array, items: ["null", File]}
    doc: "chrN.info.gz per chromosome: sites-only VCFs written by minimac4 --sites (Michigan 2's layout)"
    outputSource: chromosome/info
  qc_report: {type: File, outputSource: summary/qc_report}
  statistics: {type: Directory, outputSource: summary/statistics}
