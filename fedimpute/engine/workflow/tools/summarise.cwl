# Gather the per-chromosome parts into qc_report.txt and statistics/.
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [bash]
inputs:
  script:
    type: File
    default: {class: File, location: summarise.sh}
    inputBinding: {position: 0}
  panel: {type: string, inputBinding: {prefix: --panel, position: 1}}
  build: {type: "string?", inputBinding: {prefix: --build, position: 1}}
  population: {type: "string?", inputBinding: {prefix: --population, position: 1}}
  phasing: {type: string, inputBinding: {prefix: --phasing, position: 1}}
  imputer: {type: string, inputBinding: {prefix: --imputer, position: 1}}
  mode: {type: string, inputBinding: {prefix: --mode, position: 1}}
  reports: {type: "File[]", inputBinding: {prefix: --reports, position: 2}}
  excluded: {type: "File[]", inputBinding: {prefix: --excluded, position: 3}}
  chunks: {type: "File[]", inputBinding: {prefix: --chunks, position: 4}}
outputs:
  qc_report: {type: File, outputBinding: {glob: qc_report.txt}}
  statistics: {type: Directory, outputBinding: {glob: statistics}}
