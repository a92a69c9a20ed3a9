# Phase and impute one chunk (plus its flanks) of one chromosome (see impute-chunk.sh).  A
# CommandLineTool of its own, with a real resource request, so a batch system (Toil on Slurm)
# runs each chunk as a separate job sized to what it needs.
cwlVersion: v1.2
class: CommandLineTool
requirements:
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: $(inputs.ram)
baseCommand: [bash]
arguments:
  # what the runner granted, which can be more than asked for; the script sizes threads and heap to it
  - {prefix: --threads, valueFrom: $(runtime.cores), position: 1}
  - {prefix: --ram, valueFrom: $(runtime.ram), position: 1}
inputs:
  script:
    type: File
    default: {class: File, location: impute-chunk.sh}
    inputBinding: {position: 0}
  target: {type: File, secondaryFiles: [.tbi], inputBinding: {prefix: --target, position: 1}}
  plan: {type: File, inputBinding: {prefix: --plan, position: 1}}
  chunk_flank: {type: int, inputBinding: {prefix: --flank, position: 1}}
  panel_vcf: {type: File, secondaryFiles: [.tbi], inputBinding: {prefix: --panel-vcf, position: 1}}
  panel_msav: {type: "File?", inputBinding: {prefix: --panel-msav, position: 1}}
  built_msav: {type: "File?", inputBinding: {prefix: --built-msav, position: 1}}
  map_eagle: {type: "File?", inputBinding: {prefix: --map-eagle, position: 1}}
  map_plink: {type: "File?", inputBinding: {prefix: --map-plink, position: 1}}
  map_minimac: {type: "File?", inputBinding: {prefix: --map-minimac, position: 1}}
  phasing: {type: string, inputBinding: {prefix: --phasing, position: 1}}
  imputer: {type: string, inputBinding: {prefix: --imputer, position: 1}}
  r2_filter: {type: "string?", inputBinding: {prefix: --r2-filter, position: 1}}
  java_heap: {type: "string?", inputBinding: {prefix: --java-heap, position: 1}}
  threads: {type: int, default: 1, doc: "cores to request (and use)"}
  ram: {type: int, default: 1000, doc: "MiB of memory to request"}
outputs:
  dose:
    type: File
    doc: "the window's imputed dosages, untrimmed (ligate.sh trims to the chunk)"
    outputBinding: {glob: "*.dose.vcf.gz"}
  info:
    type: File
    doc: "the window's sites-only info VCF (minimac4 --sites layout), untrimmed"
    outputBinding: {glob: "*.info.gz"}
