# Trim one chromosome's chunks to the sites each owns and concatenate them (see ligate.sh).
cwlVersion: v1.2
class: CommandLineTool
requirements:
  ResourceRequirement: {coresMin: 1, ramMin: 500}
baseCommand: [bash]
inputs:
  script:
    type: File
    default: {class: File, location: ligate.sh}
    inputBinding: {position: 0}
  qc_report: {type: File, inputBinding: {prefix: --report, position: 1}}
  phasing: {type: string, inputBinding: {prefix: --phasing, position: 1}}
  imputer: {type: string, inputBinding: {prefix: --imputer, position: 1}}
  mode: {type: string, inputBinding: {prefix: --mode, position: 1}}
  plans: {type: "File[]", inputBinding: {prefix: --plans, position: 2}}
  doses: {type: "File[]", inputBinding: {prefix: --doses, position: 3}}
  infos: {type: "File[]", inputBinding: {prefix: --infos, position: 4}}
outputs:
  dose:
    type: "File?"
    secondaryFiles: [{pattern: .tbi, required: false}]
    outputBinding: {glob: "chr*.dose.vcf.gz"}
  info:
    type: "File?"
    doc: "minimac4 info VCF (sites only: AF, MAF, R2, ER2, IMPUTED, TYPED), as Michigan 2 / TOPMed deliver it"
    outputBinding: {glob: "chr*.info.gz"}
  report: {type: File, outputBinding: {glob: report.part.txt}}
