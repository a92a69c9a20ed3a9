# tool-versions.json: the versions bcftools, tabix, eagle, beagle and minimac4 report (see tool-versions.sh).
cwlVersion: v1.2
class: CommandLineTool
requirements:
  ResourceRequirement: {coresMin: 1, ramMin: 300}
baseCommand: [bash]
inputs:
  script:
    type: File
    default: {class: File, location: tool-versions.sh}
    inputBinding: {position: 0}
outputs:
  versions: {type: File, outputBinding: {glob: tool-versions.json}}
