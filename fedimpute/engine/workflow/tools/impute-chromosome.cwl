# One chromosome: check and align, phase, impute (see impute-chromosome.sh).
cwlVersion: v1.2
class: CommandLineTool
requirements:
  EnvVarRequirement:
    envDef:
      JAVA_TOOL_OPTIONS: -Xmx$(inputs.java_heap)
baseCommand: [bash]
inputs:
  script:
    type: File
    default: {class: File, location: impute-chromosome.sh}
    inputBinding: {position: 0}
  vcf: {type: File, inputBinding: {prefix: --vcf, position: 1}}
  panel_vcf: {type: File, secondaryFiles: [.tbi], inputBinding: {prefix: --panel-vcf, position: 1}}
  panel_sites: {type: "File?", secondaryFiles: [.tbi], inputBinding: {prefix: --panel-sites, position: 1}}
  panel_msav: {type: "File?", inputBinding: {prefix: --panel-msav, position: 1}}
  map_eagle: {type: "File?", inputBinding: {prefix: --map-eagle, position: 1}}
  map_plink: {type: "File?", inputBinding: {prefix: --map-plink, position: 1}}
  map_minimac: {type: "File?", inputBinding: {prefix: --map-minimac, position: 1}}
  fasta: {type: "File?", secondaryFiles: [.fai], inputBinding: {prefix: --fasta, position: 1}}
  phasing: {type: string, inputBinding: {prefix: --phasing, position: 1}}
  imputer: {type: string, inputBinding: {prefix: --imputer, position: 1}}
  r2_filter: {type: "string?", inputBinding: {prefix: --r2-filter, position: 1}}
  mode: {type: string, inputBinding: {prefix: --mode, position: 1}}
  threads: {type: int, inputBinding: {prefix: --threads, position: 1}}
  java_heap: {type: string}
outputs:
  dose: {type: "File?", outputBinding: {glob: "chr*.dose.vcf.gz"}}
  info:
    type: "File?"
    doc: "minimac4 info VCF (sites only: AF, MAF, R2, ER2, IMPUTED, TYPED), as Michigan 2 / TOPMed deliver it"
    outputBinding: {glob: "chr*.info.gz"}
  excluded: {type: File, outputBinding: {glob: snps-excluded.part.txt}}
  chunks: {type: File, outputBinding: {glob: chunks-excluded.part.txt}}
  report: {type: File, outputBinding: {glob: report.part.txt}}
