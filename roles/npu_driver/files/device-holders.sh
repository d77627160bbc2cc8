#!/bin/sh
# Processes holding NPU device nodes open, one line per process and device: "<pid> TAB <device> TAB <command>".
# $1 is the device path pattern (find -lname), e.g. '/dev/davinci*'. It reads the /proc/<pid>/fd links, as
# fuser and lsof do (neither is needed on the host); a process that ends meanwhile is skipped. Always exits 0.
pattern=$1
for fd in $(find /proc/[0-9]*/fd -maxdepth 1 -lname "$pattern" 2>/dev/null); do
    pid=${fd#/proc/}
    pid=${pid%%/*}
    device=$(readlink "$fd") || continue
    command=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
    printf '%s\t%s\t%s\n' "$pid" "$device" "${command% }"
done | sort -u -t "$(printf '\t')" -k1,1n -k2,2
exit 0
