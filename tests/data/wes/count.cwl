# A tiny real workflow for WES tests: counts the data lines of each input VCF.
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c]
arguments:
  - valueFrom: 'for f in "$@"; do printf "%s\t%s\n" `basename "$f"` `gzip -dc "$f" | grep -vc "^#"`; done > counts.tsv; echo "$0" > panel.txt'
    position: 0
  - valueFrom: $(inputs.panel)
    position: 1
inputs:
  vcfs:
    type: File[]
    inputBinding: {position: 2}
  panel: string
  build: string?
  population: string?
  phasing: string?
  r2_filter: string?
  mode: string?
outputs:
  counts:
    type: File
    outputBinding: {glob: counts.tsv}
  panel_used:
    type: File
    outputBinding: {glob: panel.txt}
