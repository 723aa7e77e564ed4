#!/bin/bash
# Run one step of a target and say what it cost: "NAME: N s" after it,
# whether it passed or not; exits with the step's status.
#   step.sh NAME COMMAND...
name=${1:?usage: step.sh NAME COMMAND...}
shift
start=$(date +%s)
"$@"
rc=$?
echo "step $name: $(( $(date +%s) - start )) s$([ $rc -ne 0 ] && echo ", failed ($rc)")"
exit $rc
