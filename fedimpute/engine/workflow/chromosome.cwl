#!/usr/bin/env cwl-runner
# One chromosome, as the imputation servers run it: QC and a chunk plan, then the chunks phased
# and imputed as a scatter (each chunk its own job, flanks included), then the chunks ligated
# into chrN.dose.vcf.gz and chrN.info.gz.  impute.cwl scatters this over the input files.
cwlVersion: v1.2
class: Workflow
label: fedimpute, one chromosome
requirements:
  ScatterFeatureRequirement: {}

inputs:
  vcf: File
  panel_vcf: {type: File, secondaryFiles: [.tbi]}
  panel_sites: {type: "File?", secondaryFiles: [.tbi]}
  panel_msav: "File?"
  map_eagle: "File?"
  map_plink: "File?"
  map_minimac: "File?"
  fasta: {type: "File?", secondaryFiles: [.fai]}
  phasing: string
  imputer: string
  r2_filter: "string?"
  mode: string
  chunk_size: int
  chunk_flank: int
  threads: int
  chunk_ram: int
  java_heap: "string?"

steps:
  prepare:
    run: tools/prepare-chromosome.cwl
    in:
      vcf: vcf
      panel_vcf: panel_vcf
      panel_sites: panel_sites
      panel_msav: panel_msav
      fasta: fasta
      phasing: phasing
      imputer: imputer
      mode: mode
      chunk_size: chunk_size
    out: [target, plans, msav, excluded, chunks_excluded, report]
  chunk:
    run: tools/impute-chunk.cwl
    scatter: plan
    in:
      plan: prepare/plans
      target: prepare/target
      chunk_flank: chunk_flank
      panel_vcf: panel_vcf
      panel_msav: panel_msav
      built_msav: prepare/msav
      map_eagle: map_eagle
      map_plink: map_plink
      map_minimac: map_minimac
      phasing: phasing
      imputer: imputer
      r2_filter: r2_filter
      java_heap: java_heap
      threads: threads
      ram: chunk_ram
    out: [dose, info]
  ligate:
    run: tools/ligate.cwl
    in:
      qc_report: prepare/report
      phasing: phasing
      imputer: imputer
      mode: mode
      plans: prepare/plans
      doses: chunk/dose
      infos: chunk/info
    out: [dose, info, report]

outputs:
  dose:
    type: "File?"
    secondaryFiles: [{pattern: .tbi, required: false}]
    outputSource: ligate/dose
  info: {type: "File?", outputSource: ligate/info}
  excluded: {type: File, outputSource: prepare/excluded}
  chunks: {type: File, outputSource: prepare/chunks_excluded}
  report: {type: File, outputSource: ligate/report}
