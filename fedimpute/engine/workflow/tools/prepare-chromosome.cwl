# One chromosome's QC and chunk plan (see prepare-chromosome.sh).
cwlVersion: v1.2
class: CommandLineTool
requirements:
  ResourceRequirement: {coresMin: 1, ramMin: 500}
baseCommand: [bash]
inputs:
  script:
    type: File
    default: {class: File, location: prepare-chromosome.sh}
    inputBinding: {position: 0}
  vcf: {type: File, inputBinding: {prefix: --vcf, position: 1}}
  panel_vcf: {type: File, secondaryFiles: [.tbi], inputBinding: {prefix: --panel-vcf, position: 1}}
  panel_sites: {type: "File?", secondaryFiles: [.tbi], inputBinding: {prefix: --panel-sites, position: 1}}
  panel_msav: {type: "File?", inputBinding: {prefix: --panel-msav, position: 1}}
  fasta: {type: "File?", secondaryFiles: [.fai], inputBinding: {prefix: --fasta, position: 1}}
  phasing: {type: string, inputBinding: {prefix: --phasing, position: 1}}
  imputer: {type: string, inputBinding: {prefix: --imputer, position: 1}}
  mode: {type: string, inputBinding: {prefix: --mode, position: 1}}
  chunk_size: {type: int, inputBinding: {prefix: --chunk-size, position: 1}}
outputs:
  target:
    type: File
    doc: "the sites that passed QC, indexed: what the chunks phase and impute"
    secondaryFiles: [.tbi]
    outputBinding: {glob: target.vcf.gz}
  plans:
    type: "File[]"
    doc: "one file per chunk to impute (chrom, start, end), in genome order; none in qc-only mode"
    outputBinding: {glob: "chunk-*.txt"}
  msav: {type: "File?", doc: "the panel as .msav, built here when the registry gave none", outputBinding: {glob: panel.msav}}
  excluded: {type: File, outputBinding: {glob: snps-excluded.part.txt}}
  chunks_excluded: {type: File, outputBinding: {glob: chunks-excluded.part.txt}}
  report: {type: File, outputBinding: {glob: report.part.txt}}
