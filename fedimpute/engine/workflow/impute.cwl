#!/usr/bin/env cwl-runner
# fedimpute's imputation workflow, chunked like the public servers': per chromosome (scattered over
# the input files, see chromosome.cwl) check and align the target to the panel and cut the
# chromosome into chunks, phase (eagle, beagle or none) and impute (minimac4 or beagle) each chunk
# with flanks as a scatter of separate jobs, ligate the chunks back; then gather a QC report and
# statistics laid out like the servers', and the tools' versions.
# Runs with cwltool and Toil (plain CWL 1.2, no JavaScript, no runner extensions); needs bcftools,
# tabix, eagle (bio-eagle on Debian), beagle and minimac4 on the PATH.  No containers.
cwlVersion: v1.2
class: Workflow
label: fedimpute genotype imputation
requirements:
  ScatterFeatureRequirement: {}
  SubworkflowFeatureRequirement: {}

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
  panel_msav: {type: "File?", doc: "minimac4 .msav of the panel (built once per chromosome when absent)"}
  map_eagle: {type: "File?"}
  map_plink: {type: "File?"}
  map_minimac: {type: "File?"}
  fasta: {type: "File?", secondaryFiles: [.fai], doc: "reference FASTA for allele alignment (bcftools norm -c)"}
  chunk_size:
    type: int
    default: 20000000
    doc: "chunk length in bp (Michigan's 20 Mb); chunks lie on a fixed grid 1..size, size+1..2*size, ..."
  chunk_flank:
    type: int
    default: 5000000
    doc: "bp added on each side of a chunk as phasing and imputation context, trimmed off at ligation"
  threads: {type: int, default: 1, doc: "cores each chunk job requests and gives eagle, beagle and minimac4"}
  chunk_ram: {type: int, default: 1000, doc: "MiB of memory each chunk job requests"}
  java_heap: {type: "string?", doc: "Java heap for beagle (-Xmx), e.g. 2g (default: 80% of chunk_ram)"}

steps:
  chromosome:
    run: chromosome.cwl
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
      chunk_size: chunk_size
      chunk_flank: chunk_flank
      threads: threads
      chunk_ram: chunk_ram
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
  versions:
    run: tools/tool-versions.cwl
    in: {}
    out: [versions]

outputs:
  dose:
    type: {type: array, items: ["null", File]}
    doc: "chrN.dose.vcf.gz per chromosome (with its .tbi index)"
    outputSource: chromosome/dose
  info:
    type: {type: array, items: ["null", File]}
    doc: "chrN.info.gz per chromosome: sites-only VCFs written by minimac4 --sites (Michigan 2's layout)"
    outputSource: chromosome/info
  qc_report: {type: File, outputSource: summary/qc_report}
  statistics: {type: Directory, outputSource: summary/statistics}
  tool_versions:
    type: File
    doc: "tool-versions.json: the version line bcftools, htslib, tabix, eagle, beagle and minimac4 print"
    outputSource: versions/versions
