# A long-running workflow for cancel tests: ignores its inputs and sleeps.
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sleep, "300"]
inputs:
  vcfs: File[]
  panel: string
  build: string?
outputs: []
