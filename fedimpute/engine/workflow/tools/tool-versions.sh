#!/usr/bin/env bash
# Write tool-versions.json: the version line each tool of the workflow prints about itself, e.g.
# {"bcftools": "bcftools 1.16", "eagle": "Eagle v2.4.1", ...}, null for a tool not installed.
# Provenance reads it; the raw line is kept because the tools' formats differ (beagle names its
# jar build, eagle prints a banner).
set -uo pipefail  # no -e: a missing tool is a null entry, not a failed run

# The first line of "$@"'s output matching $pattern, trimmed; empty when the tool is missing.
first_match() { local pattern=$1; shift
  "$@" 2>&1 | grep -m1 -E "$pattern" | sed -E 's/^[[:space:]|]+//; s/[[:space:]|]+$//'; }
eagle=$(command -v bio-eagle || command -v eagle)
# beagle prints its version with the usage text; a small heap, its JVM only prints
export JAVA_TOOL_OPTIONS=-Xmx64m

json_value() { if [ -n "$1" ]; then printf '"%s"' "$(printf '%s' "$1" | tr -d '"\\' | tr -d '\000-\037')"; else printf null; fi; }
{
  printf '{\n'
  printf '  "bcftools": %s,\n' "$(json_value "$(first_match '^bcftools ' bcftools --version)")"
  printf '  "htslib": %s,\n' "$(json_value "$(first_match '^Using htslib ' bcftools --version | sed 's/^Using //')")"
  printf '  "tabix": %s,\n' "$(json_value "$(first_match '^tabix ' tabix --version)")"
  printf '  "eagle": %s,\n' "$(json_value "$( [ -n "$eagle" ] && first_match 'Eagle v' "$eagle" --help)")"
  printf '  "beagle": %s,\n' "$(json_value "$(command -v beagle > /dev/null && first_match '^beagle\.' beagle)")"
  printf '  "minimac4": %s\n' "$(json_value "$(first_match '^minimac' minimac4 --version)")"
  printf '}\n'
} > tool-versions.json
